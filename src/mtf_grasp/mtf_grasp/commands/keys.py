"""`mtf-grasp keys generate`: one random HMAC key file per fleet roster member."""
from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser('keys', help='make the HMAC keys that sign model submissions')
    actions = parser.add_subparsers(dest='keys_command', required=True, metavar='ACTION')
    generate = actions.add_parser(
        'generate', help='write DIR/<id>.key (32 random bytes as hex, mode 0600) per roster member',
        description='Write one random HMAC-SHA256 key per roster member. Give each robot its own '
                    'key file; the server needs all of them. See docs/security.md.')
    generate.add_argument('--roster', required=True, metavar='CONFIG',
                          help="fleet config whose 'roster:' section lists the members")
    generate.add_argument('--out', required=True, metavar='DIR', help='directory for the key files')
    generate.add_argument('--force', action='store_true',
                          help='replace existing key files (their robots must get the new keys)')
    generate.set_defaults(run=run_generate)


def run_generate(args) -> int:
    from mtf_grasp.federated.roster import load_roster, write_key_files

    roster = load_roster(args.roster)
    written = write_key_files(roster.ids, args.out, overwrite=args.force)
    for member_id, path in zip(roster.ids, written):
        note = '' if path.resolve() == roster.key_files[member_id].resolve() else \
            f'  (the roster names {roster.key_files[member_id]})'
        print(f'{member_id}: {path}{note}')
    return 0
