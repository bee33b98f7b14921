"""Round records of the fleet nodes and the summary built from them.

Each node appends JSON lines to `<report_dir>/<node>.jsonl`: the receiver of every model transfer
records it (so each transfer is counted once), robots record their training time, the server
records each finished round. When a round ends at the server every record of that round has been
written, because each node writes before it sends the model that lets the round go on. Each record
carries `at`, the wall clock when it was written; trainings also carry `started_at` and `ended_at`,
rounds `started_at`; round_timeline splits a round with them.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import defaultdict
from pathlib import Path

from mtf_grasp.federated.defences import defence_summary, event_record
from mtf_grasp.federated.profiles import id_order
from mtf_grasp.fleet import SERVER_ID as SERVER
from mtf_grasp.nodes.fleet.round_timeline import round_timeline


class RoundReport:
    """Appends records to one node's JSONL file; does nothing when `report_dir` is empty."""

    def __init__(self, report_dir: str, name: str):
        self._path = Path(report_dir) / f'{name}.jsonl' if report_dir else None
        self._lock = threading.Lock()
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)

    def transfer(self, *, round_index: int, sender: str, receiver: str, payload_bytes: int) -> None:
        self._write(kind='transfer', round=round_index, sender=sender, receiver=receiver,
                    payload_bytes=payload_bytes)

    def training(self, *, round_index: int, robot_id: str, role: str, seconds: float, cpu_seconds: float,
                 started_at: float, ended_at: float) -> None:
        """A training of `seconds` (wall time), `cpu_seconds` of its thread's CPU time, between the
        wall-clock stamps `started_at` and `ended_at` (time.time(), comparable across processes)."""
        self._write(kind='training', round=round_index, robot=robot_id, role=role, train_s=seconds,
                    cpu_s=cpu_seconds, started_at=started_at, ended_at=ended_at)

    def cluster(self, *, round_index: int, coordinator: str, members: list[str]) -> None:
        """The members whose models a coordinator aggregated (late ones are left out)."""
        self._write(kind='cluster', round=round_index, coordinator=coordinator, members=members)

    def defences(self, *, round_index: int, events) -> None:
        """What the defences decided in one aggregation (rounds.DefenceEvents); nothing when empty."""
        if events:
            self._write(kind='defences', round=round_index, events=[event_record(e) for e in events])

    def work(self, *, round_index: int, clock) -> None:
        """A coordinator's own work in a round outside training (a WorkClock: wall and CPU seconds):
        admitting its members' models, aggregating them, encoding and signing its seed and cluster models."""
        self._write(kind='work', round=round_index, seconds=clock.wall_s, cpu_seconds=clock.cpu_s)

    def registration(self, *, seconds: float, robots: int) -> None:
        """The server knew every robot `seconds` after it started (process start, DDS discovery
        of its services by the robots, their registration calls)."""
        self._write(kind='registration', registration_s=seconds, robots=robots)

    def round(self, **record) -> None:
        self._write(kind='round', **record)

    def _write(self, **record) -> None:
        if self._path is None:
            return
        with self._lock, self._path.open('a') as out:
            out.write(json.dumps({**record, 'at': time.time()}) + '\n')


def read_records(report_dir: str | Path) -> list[dict]:
    records = []
    for path in sorted(Path(report_dir).glob('*.jsonl')):
        records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records


def summarize(records: list[dict]) -> dict:
    """`summary.json`: per round accuracy, participants, robots' bytes, wall time and its split
    into training on the critical path, evaluation and overhead, what the defences decided; the
    final accuracy and ranking."""
    transfers = defaultdict(list)
    training = defaultdict(dict)
    clusters = defaultdict(dict)
    defences = defaultdict(list)
    work = defaultdict(list)
    by_round = defaultdict(list)   # each round's records, for its timeline
    for record in records:
        by_round[record.get('round')].append(record)
        if record['kind'] == 'transfer':
            transfers[record['round']].append(record)
        elif record['kind'] == 'training':
            training[record['round']][record['robot']] = record['train_s']
        elif record['kind'] == 'cluster':
            clusters[record['round']][record['coordinator']] = record['members']
        elif record['kind'] == 'defences':
            defences[record['round']] += record['events']
        elif record['kind'] == 'work':
            work[record['round']].append((record['seconds'], record.get('cpu_seconds')))
    rounds = []
    # A round a restarted server played again (killed before its checkpoint was committed) keeps its last record.
    last_records = {r['round']: r for r in records if r['kind'] == 'round'}
    for record in (last_records[index] for index in sorted(last_records)):
        index = record['round']
        train_s = critical_training_s(training[index], record['clusters'], record['participants'])
        moved = transfers[index]
        rounds.append({
            'round': index,
            'global_accuracy': record['global_accuracy'],
            'top_level': list(record['clusters']),
            'participants': planned_participants(record.get('submitted', record['participants']),
                                                 clusters=record['clusters'], aggregated=clusters[index]),
            'bytes_sent': sum(t['payload_bytes'] for t in moved if t['sender'] != SERVER),
            'bytes_received': sum(t['payload_bytes'] for t in moved if t['receiver'] != SERVER),
            'duration_s': record['duration_s'],
            'training_s': train_s,
            'evaluation_s': record['evaluation_s'],
            'overhead_s': max(0.0, record['duration_s'] - train_s - record['evaluation_s']),
            # Measured directly: the server's own work (admission, aggregation, encoding, signing,
            # checkpoint) and the busiest coordinator's, as wall time (stretched on a crowded CPU)
            # and as the CPU time of the threads doing it (work_clock.py).
            'server_work_s': record.get('server_work_s'),
            'server_work_cpu_s': record.get('server_work_cpu_s'),
            'coordinator_work_s': max((wall for wall, _ in work[index]), default=0.0),
            'coordinator_work_cpu_s': max((cpu for _, cpu in work[index] if cpu is not None), default=0.0),
            'timeline': round_timeline(by_round[index], record),
            'global_sha256': record['global_sha256'],
            'defences': defence_summary(defences[index]),
            'server_peak_rss_mb': record.get('server_peak_rss_mb'),
        })
    last = rounds[-1] if rounds else None
    final = last_records[last['round']] if last else None
    return {
        'method': final['method'] if final else None,
        'rounds': rounds,
        'final_accuracy': last['global_accuracy'] if last else None,
        'final_sha256': last['global_sha256'] if last else None,
        'ranking': final['ranking'] if final else [],
        # The last registration: a restarted server registers the fleet again.
        'registration_s': next((r['registration_s'] for r in reversed(records) if r['kind'] == 'registration'), None),
    }


def planned_participants(submitted, *, clusters, aggregated=None) -> list[str]:
    """Robots whose models entered a round: each sender the server aggregated, with the members
    its coordinator reported aggregating (`aggregated`), or else its planned cluster."""
    aggregated = aggregated or {}
    robots = set(submitted)
    for sender in submitted:
        robots.update(aggregated.get(sender, clusters.get(sender, ())))
    return sorted(robots, key=id_order)


def critical_training_s(seconds: dict[str, float], clusters: dict[str, list[str]],
                        participants: list[str]) -> float:
    """Training time on the round's critical path: a coordinator's seed training plus its slowest
    member's fine-tuning, for the slowest cluster; in flat rounds the slowest robot."""
    if clusters:
        return max((seconds.get(c, 0.0) + max((seconds.get(m, 0.0) for m in members), default=0.0)
                    for c, members in clusters.items()), default=0.0)
    return max((seconds.get(r, 0.0) for r in participants), default=0.0)


def write_summary(report_dir: str | Path, path: str | Path, *, attacks=()) -> dict:
    """summary.json from the round records, with the attacks the fleet replayed (attacks.Attack)."""
    summary = {**summarize(read_records(report_dir)), 'attacks': [dataclasses.asdict(a) for a in attacks]}
    Path(path).write_text(json.dumps(summary, indent=2) + '\n')
    return summary
