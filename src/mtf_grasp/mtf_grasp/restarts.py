"""When a node that ended by itself is started again: one decision for both runners.

`mtf-grasp fleet` (the Supervisor) and `launch/fleet.launch.py` ask the same `RestartTracker`
what to do when a node of the plan exits, so a crash is handled alike however the fleet runs.
A crash is an end the node did not choose: a signal (an OOM kill, a segfault, `kill -9`, a robot
that lost power) or an unknown exit code. The fleet nodes' own verdicts are final: exit 0 is done
(also after Ctrl-C or SIGTERM, a deliberate stop), 1 is work that cannot go on (a round past its
timeout), 2 is bad input (parameters, an unreadable checkpoint); a restart would change neither.
"""
from __future__ import annotations

import enum
import signal
import time
from dataclasses import dataclass, field

VERDICT_EXIT_CODES = (0, 1, 2)  # nodes/runtime.py: done, work failed, bad input


@dataclass(frozen=True)
class RestartPolicy:
    """A crashed node is started again after `delay_s`, each further crash within `window_s`
    waiting `backoff` times longer (at most `max_delay_s`); its `max_crashes`-th crash within
    `window_s` leaves it down."""

    delay_s: float = 2.0
    backoff: float = 2.0
    max_delay_s: float = 30.0
    max_crashes: int = 4
    window_s: float = 300.0

    def __post_init__(self):
        for name in ('delay_s', 'max_delay_s', 'window_s'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name} must be positive, got {getattr(self, name)}')
        if self.backoff < 1:
            raise ValueError(f'backoff must be at least 1, got {self.backoff}')
        if self.max_delay_s < self.delay_s:
            raise ValueError(f'max_delay_s ({self.max_delay_s}) must not be below delay_s ({self.delay_s})')
        if self.max_crashes < 1:
            raise ValueError(f'max_crashes must be at least 1, got {self.max_crashes}')


class Outcome(enum.Enum):
    FINISHED = 'finished'    # exit 0
    FAILED = 'failed'        # the node's own verdict (exit 1 or 2), or a crash with no policy
    RESTART = 'restart'      # a crash: start it again after `delay_s`
    LEFT_DOWN = 'left_down'  # a crash too many within the window


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    message: str        # a log line: the node, how it ended, what happens now
    delay_s: float = 0.0
    detail: str = ''    # why a crashed node is left down


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f'signal {signal.Signals(-returncode).name}'
        except ValueError:
            return f'signal {-returncode}'
    return f'code {returncode}'


def crashed(returncode: int) -> bool:
    """Whether an exit was a crash rather than the node's own verdict."""
    return returncode not in VERDICT_EXIT_CODES


@dataclass
class RestartTracker:
    """The crashes and restarts of one node, and what to do on its next exit."""

    name: str
    policy: RestartPolicy | None
    crashes: list[dict] = field(default_factory=list)  # {'time', 'exit', 'outcome'}; 'time' is wall clock
    _monotonic: list[float] = field(default_factory=list)

    def on_exit(self, returncode: int, *, now: float | None = None) -> Decision:
        what = f'{self.name} exited with {describe_exit(returncode)}'
        if returncode == 0:
            return Decision(Outcome.FINISHED, f'{self.name} finished')
        if not crashed(returncode) or self.policy is None:
            return Decision(Outcome.FAILED, what)
        now = time.monotonic() if now is None else now
        policy = self.policy
        self._monotonic = [t for t in self._monotonic if now - t < policy.window_s] + [now]
        recent = len(self._monotonic)
        if recent >= policy.max_crashes:
            detail = f'{recent} crash{"es" * (recent > 1)} within {policy.window_s:g} s; left down'
            decision = Decision(Outcome.LEFT_DOWN, f'{what}: {detail}', detail=detail)
        else:
            delay = min(policy.delay_s * policy.backoff ** (recent - 1), policy.max_delay_s)
            decision = Decision(Outcome.RESTART, f'{what}; restart {self.restarts + 1} in {delay:.1f} s', delay)
        self.crashes.append({'time': time.time(), 'exit': describe_exit(returncode),
                             'outcome': decision.outcome.value})
        return decision

    @property
    def restarts(self) -> int:
        return sum(crash['outcome'] == Outcome.RESTART.value for crash in self.crashes)

    @property
    def left_down(self) -> bool:
        return any(crash['outcome'] == Outcome.LEFT_DOWN.value for crash in self.crashes)

    def record(self) -> dict:
        """This node's entry in summary.json's `restarts`."""
        return {'node': self.name, 'count': self.restarts, 'left_down': self.left_down,
                'times': [_iso(crash['time']) for crash in self.crashes],
                'exits': [crash['exit'] for crash in self.crashes]}


def restart_records(trackers) -> list[dict]:
    """summary.json's `restarts`: one entry per node that crashed, in plan order."""
    return [tracker.record() for tracker in trackers if tracker.crashes]


def _iso(timestamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec='milliseconds')
