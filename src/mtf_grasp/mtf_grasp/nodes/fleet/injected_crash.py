"""`mtf-grasp fleet --crash ROBOT:ROUND`: the robot's nodes die by SIGKILL when that round's plan
reaches them, a real crash that the runner sees (exit -9) and answers with the restart policy.
Started again, they sit that round out and take part from the next, so the robot misses exactly
that round, as under `mtf-grasp experiment --crash`. A marker file in the run's records directory
tells a restarted node that it has crashed already."""
from __future__ import annotations

import os
import signal
from pathlib import Path

from mtf_grasp.federated.experiment import parse_crash


class InjectedCrash:
    def __init__(self, *, crashes, robot_id: str, node_name: str, report_dir: str):
        self._rounds = {index for robot, index in map(parse_crash, crashes) if robot == robot_id}
        self._marker = Path(report_dir or '.') / f'crash_{node_name}'

    def missed(self, round_index: int, log) -> bool:
        """True when this node crashed in `round_index` and so sits it out; the first time, the
        process dies here instead."""
        if round_index not in self._rounds:
            return False
        marker = self._marker.with_name(f'{self._marker.name}_round{round_index}')
        if marker.exists():
            log(f'round {round_index}: crashed in this round (--crash); back from the next')
            return True
        marker.touch()
        log(f'round {round_index}: crashing now, as --crash asks')
        os.kill(os.getpid(), signal.SIGKILL)
        return True   # not reached
