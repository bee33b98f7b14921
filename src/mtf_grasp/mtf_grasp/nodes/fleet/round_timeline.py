"""Where a fleet round's wall time went: the chain of events that ended it, read from the records.

The records carry wall-clock stamps (time.time(), one clock for all processes on a machine): a
transfer `at` the moment its receiver accepted it, a training its `started_at` and `ended_at` with
`cpu_s` (the CPU time of the thread that trained), the server's round its `started_at` and
`ended_at`. The chain is read on that one clock only: a VM's wall clock can step by a second
against the monotonic clock that measures `duration_s` (seen on a loaded 2-core VM). (A stamp is
taken right after the perf_counter reading it goes with, or after the work it closes, never
before: a thread that waits for the GIL between the two readings moves the wait into the segment
before it, and every segment stays ≥ 0.) The round ended when its last model reached the server;
following that model back (its cluster's last member to submit, the seed that member fine-tuned,
the global model its coordinator started from) splits the round into consecutive segments, each
between two events that happened one after the other, adding up to the round's wall-clock span. A
training's wall time splits into its CPU time and the time its thread waited for a core (exact
with `torch_threads: 1`, the fleet's default: torch then computes on the calling thread). Nodes on
several machines have several clocks; the split then holds their offsets too.
"""
from __future__ import annotations

from mtf_grasp.fleet import SERVER_ID as SERVER


def round_timeline(records: list[dict], round_record: dict) -> dict[str, float] | None:
    """Seconds per segment of the round `round_record` (the server's), in the order they happened;
    None when a record on the chain is missing (written before records were stamped, or lost)."""
    index = round_record['round']
    if round_record.get('started_at') is None or round_record.get('ended_at') is None:
        return None
    start = round_record['started_at']
    arrivals, trainings = {}, {}
    for record in records:   # the latest of each: a restarted node may send again
        if record.get('round') != index:
            continue
        if record['kind'] == 'transfer' and record.get('at') is not None:
            key = (record['sender'], record['receiver'])
            arrivals[key] = max(arrivals.get(key, record['at']), record['at'])
        elif record['kind'] == 'training' and record.get('ended_at') is not None:
            trainings[(record['robot'], record['role'])] = record
    clusters = round_record['clusters']
    senders = clusters or round_record['participants']
    arrived = [(arrivals[(s, SERVER)], s) for s in senders if (s, SERVER) in arrivals]
    if not arrived:
        return None
    last_at, last = max(arrived)
    try:
        if clusters:
            chain, cursor = _cluster_chain(last, clusters[last], arrivals, trainings, start=start)
        else:
            chain, cursor = _robot_chain(last, arrivals, trainings, start=start)
    except KeyError:
        return None
    chain['cluster_to_server' if clusters else 'model_to_server'] = last_at - cursor
    chain['server_closing'] = round_record['ended_at'] - last_at
    return {name: round(seconds, 4) for name, seconds in chain.items()}


def _cluster_chain(coordinator: str, members, arrivals, trainings, *, start: float):
    """The segments from the round's start to the last model its coordinator received, and when that was."""
    got_global = arrivals[(SERVER, coordinator)]
    seed = trainings[(coordinator, 'seed')]
    chain = {'global_to_coordinator': got_global - start, **_training('seed', seed, after=got_global)}
    cursor = seed['ended_at']
    submitted = [(arrivals[(m, coordinator)], m) for m in members if (m, coordinator) in arrivals]
    if submitted:   # a cluster whose members all failed sends the coordinator's own model
        member_at, member = max(submitted)
        got_seed = arrivals[(coordinator, member)]
        tuned = trainings[(member, 'fine_tune')]
        chain.update({'seed_to_member': got_seed - cursor, **_training('fine_tuning', tuned, after=got_seed),
                      'member_to_coordinator': member_at - tuned['ended_at']})
        cursor = member_at
    return chain, cursor


def _robot_chain(robot: str, arrivals, trainings, *, start: float):
    got_global = arrivals[(SERVER, robot)]
    trained = trainings[(robot, 'local')]
    chain = {'global_to_robot': got_global - start, **_training('training', trained, after=got_global)}
    return chain, trained['ended_at']


def _training(name: str, record: dict, *, after: float) -> dict[str, float]:
    wall = record['ended_at'] - record['started_at']
    cpu = min(record['cpu_s'], wall)
    return {f'before_{name}': record['started_at'] - after, f'{name}_cpu': cpu, f'{name}_waiting': wall - cpu}
