"""Roster, key files and HMAC signatures of blobs, profiles and seed reports (mtf_grasp.federated.admission)."""
import dataclasses
import hashlib
import hmac
import struct

import pytest

from mtf_grasp.errors import InputError
from mtf_grasp.federated.roster import load_roster, read_key, write_key_files
from mtf_grasp.federated.signing import (
    WireBlob, WireProfile, WireSeedReport, blob_signing_bytes, receipt_of, sign_blob, sign_profile, sign_seed_report,
    signed, verify_blob, verify_profile, verify_receipt, verify_seed_report)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def make_blob(**changes):
    payload = changes.pop('payload', b'\x00weights\xff')
    blob = WireBlob(sender='robot_1', architecture='ggcnn2', round=3, version=7, sample_count=120,
                    local_steps=42.5, encoding='safetensors-fp32', metadata_json='{"width": 16}',
                    sha256=hashlib.sha256(payload).hexdigest(), payload=payload)
    return dataclasses.replace(blob, **changes)


def write_roster(tmp_path, members, key_dir='keys'):
    config = tmp_path / 'fleet.yaml'
    lines = ['roster:'] + [f'  {m}: {key_dir}/{m}.key' for m in members]
    config.write_text('\n'.join(lines) + '\n')
    return config


def test_signing_bytes_follow_the_documented_layout():
    blob = make_blob()
    expected = b''.join(struct.pack('>I', len(part)) + part for part in [
        b'mtf-grasp/model-blob/v1', b'robot_1', b'ggcnn2', struct.pack('>I', 3),
        struct.pack('>Q', 7), struct.pack('>Q', 120), struct.pack('>d', 42.5),
        b'safetensors-fp32', b'{"width": 16}', hashlib.sha256(b'\x00weights\xff').digest()])
    assert blob_signing_bytes(blob) == expected
    assert sign_blob(blob, KEY) == hmac.new(KEY, expected, hashlib.sha256).hexdigest()


def test_a_signed_blob_verifies_under_its_key_only():
    blob = signed(make_blob(), KEY)
    assert len(blob.signature) == 64
    assert verify_blob(blob, KEY)
    assert not verify_blob(blob, OTHER_KEY)
    assert not verify_blob(make_blob(), KEY), 'an unsigned blob must not verify'


@pytest.mark.parametrize('change', [
    {'sender': 'robot_2'}, {'architecture': 'grconvnet'}, {'round': 4}, {'version': 8},
    {'sample_count': 121}, {'local_steps': 42.25}, {'encoding': 'safetensors-fp16'},
    {'metadata_json': '{"width": 32}'}, {'payload': b'\x00weights\xfe'},
])
def test_every_signed_field_is_covered(change):
    blob = signed(make_blob(), KEY)
    assert not verify_blob(dataclasses.replace(blob, **change), KEY)


def test_framing_stops_bytes_moving_between_fields():
    # Same concatenation of sender+architecture, different split: must not share a signature.
    one = signed(make_blob(sender='robot_1', architecture='ggcnn2'), KEY)
    shifted = dataclasses.replace(one, sender='robot_1g', architecture='gcnn2')
    assert not verify_blob(shifted, KEY)


@pytest.mark.parametrize('change', [{'round': -1}, {'round': 2 ** 32}, {'version': -5},
                                    {'sample_count': 2 ** 64}, {'local_steps': 'many'}])
def test_fields_outside_their_wire_type_fail_verification_instead_of_raising(change):
    blob = dataclasses.replace(signed(make_blob(), KEY), **change)
    assert verify_blob(blob, KEY) is False


def test_hostile_signature_strings_do_not_raise():
    for signature in ['', 'zz' * 32, '\udcff' * 64, 'é' * 64, sign_blob(make_blob(), KEY).upper()]:
        assert verify_blob(dataclasses.replace(make_blob(), signature=signature), KEY) is False


@pytest.mark.parametrize('change', [
    {'sender': 'robot_2'}, {'round': 4}, {'version': 8}, {'sample_count': 121},
    {'sha256': hashlib.sha256(b'other weights').hexdigest()}, {'sha256': 'ab' * 31}, {'sha256': 'not hex'},
])
def test_a_receipt_proves_the_sent_models_hash_without_its_payload(change):
    blob = signed(make_blob(), KEY)
    receipt = receipt_of(blob)
    assert receipt.payload == b'' and receipt.signature == blob.signature
    assert verify_receipt(receipt, KEY) and not verify_receipt(receipt, OTHER_KEY)
    assert not verify_blob(receipt, KEY), 'a receipt is not a model'
    assert not verify_receipt(dataclasses.replace(receipt, **change), KEY)


def test_profile_signatures_cover_every_field():
    profile = WireProfile(robot_id='robot_1', sample_count=10, class_histogram=(4, 6), labeller='angle')
    signature = sign_profile(profile, KEY)
    assert verify_profile(profile, signature, KEY)
    assert not verify_profile(profile, signature, OTHER_KEY)
    for change in [{'robot_id': 'robot_2'}, {'sample_count': 11}, {'class_histogram': (6, 4)},
                   {'class_histogram': (4, 6, 0)}, {'labeller': 'object'}]:
        assert not verify_profile(dataclasses.replace(profile, **change), signature, KEY), change


def test_seed_report_signatures_cover_every_field_and_a_field_outside_its_type_never_verifies():
    report = WireSeedReport(sender='robot_3', coordinator='robot_0', round=2, seed_sha256='ab' * 32, loss=0.5)
    signature = sign_seed_report(report, KEY)
    assert verify_seed_report(report, signature, KEY)
    assert not verify_seed_report(report, signature, OTHER_KEY)
    for change in [{'sender': 'robot_4'}, {'coordinator': 'robot_1'}, {'round': 3}, {'seed_sha256': 'cd' * 32},
                   {'loss': 0.05}, {'loss': 50.0}]:
        assert not verify_seed_report(dataclasses.replace(report, **change), signature, KEY), change
    assert not verify_seed_report(dataclasses.replace(report, round=-1), signature, KEY)


def test_roster_keys_round_trip_through_generated_files(tmp_path):
    config = write_roster(tmp_path, ['server', 'robot_0', 'robot_1'])
    roster = load_roster(config)
    assert roster.ids == ('server', 'robot_0', 'robot_1')
    paths = write_key_files(roster.ids, tmp_path / 'keys')
    assert [p.stat().st_mode & 0o777 for p in paths] == [0o600] * 3
    assert (tmp_path / 'keys').stat().st_mode & 0o077 == 0
    keys = roster.load_keys()
    assert set(keys) == {'server', 'robot_0', 'robot_1'}
    assert all(len(k) == 32 for k in keys.values())
    assert len(set(keys.values())) == 3, 'every member gets its own key'
    assert roster.load_keys(['robot_1']) == {'robot_1': keys['robot_1']}


def test_existing_keys_are_kept_unless_forced(tmp_path):
    first = write_key_files(['robot_0'], tmp_path)[0].read_text()
    with pytest.raises(InputError, match='robot_0.key: key file exists; pass --force'):
        write_key_files(['robot_0'], tmp_path)
    assert (tmp_path / 'robot_0.key').read_text() == first
    write_key_files(['robot_0'], tmp_path, overwrite=True)
    assert (tmp_path / 'robot_0.key').read_text() != first


@pytest.mark.parametrize('text, mode, message', [
    (None, 0o600, r'key file .*robot_0.key not found \(make keys with `mtf-grasp keys generate'),
    ('ab' * 32, 0o644, r'accessible by group or others \(mode 0644\); run `chmod 600'),
    ('ab' * 31, 0o600, 'must hold 32 bytes as 64 hex digits'),
    ('xy' * 32, 0o600, 'must hold 32 bytes as 64 hex digits'),
])
def test_bad_key_files_are_input_errors_naming_member_and_file(tmp_path, text, mode, message):
    path = tmp_path / 'robot_0.key'
    if text is not None:
        path.write_text(text + '\n')
        path.chmod(mode)
    with pytest.raises(InputError, match=message) as info:
        read_key(path, member='fleet.yaml:roster.robot_0')
    assert str(info.value).startswith('fleet.yaml:roster.robot_0: ')


@pytest.mark.parametrize('body, message', [
    ('robots: 3\n', "no 'roster' section"),
    ('roster: []\n', 'expected a non-empty mapping of member id to key file'),
    ('roster:\n  ../etc: k.key\n', "member id '../etc' must be a letter"),
    ('roster:\n  robot_0: 5\n', r'roster.robot_0: expected a key file path, got 5'),
])
def test_bad_rosters_are_input_errors_naming_the_config(tmp_path, body, message):
    config = tmp_path / 'fleet.yaml'
    config.write_text(body)
    with pytest.raises(InputError, match=message) as info:
        load_roster(config)
    assert str(config) in str(info.value)


def test_asking_for_a_non_member_key_names_the_members(tmp_path):
    roster = load_roster(write_roster(tmp_path, ['server', 'robot_0']))
    with pytest.raises(InputError, match="'robot_9' is not in the roster \\(members: server, robot_0\\)"):
        roster.load_keys(['robot_9'])


def test_two_members_sharing_a_key_is_an_input_error(tmp_path):
    config = tmp_path / 'fleet.yaml'
    config.write_text('roster:\n  robot_0: keys/shared.key\n  robot_1: keys/shared.key\n')
    write_key_files(['shared'], tmp_path / 'keys')
    with pytest.raises(InputError, match="'robot_0' and 'robot_1' share a key; every member needs its own"):
        load_roster(config).load_keys()


def test_a_blob_takes_its_payload_from_any_byte_buffer():
    import array

    blob = make_blob()
    for buffer in (memoryview(blob.payload), array.array('B', blob.payload), bytearray(blob.payload)):
        copy = dataclasses.replace(blob, payload=buffer)
        assert type(copy.payload) is bytes and copy.payload == blob.payload
