"""`mtf-grasp keys generate` writes private key files the roster can load."""
import pytest

from mtf_grasp.cli import main
from mtf_grasp.federated.roster import load_roster


@pytest.fixture
def keys_generate(capsys):
    def run(*args):
        code = main(['keys', 'generate', *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_generate_writes_one_private_key_per_member_and_refuses_to_overwrite(tmp_path, keys_generate):
    config = tmp_path / 'fleet.yaml'
    config.write_text('roster:\n  server: keys/server.key\n  robot_0: keys/robot_0.key\n')
    code, out, err = keys_generate('--roster', str(config), '--out', str(tmp_path / 'keys'))
    assert code == 0, err
    assert out.splitlines() == [f'server: {tmp_path}/keys/server.key',
                                f'robot_0: {tmp_path}/keys/robot_0.key']
    keys = load_roster(config).load_keys()
    assert sorted(keys) == ['robot_0', 'server']

    code, out, err = keys_generate('--roster', str(config), '--out', str(tmp_path / 'keys'))
    assert code == 2
    assert err.startswith('mtf-grasp keys: error: ') and '--force' in err
    assert load_roster(config).load_keys() == keys

    code, out, err = keys_generate('--roster', str(config), '--out', str(tmp_path / 'keys'), '--force')
    assert code == 0, err
    assert load_roster(config).load_keys()['server'] != keys['server']


def test_generate_notes_when_the_roster_points_elsewhere(tmp_path, keys_generate):
    config = tmp_path / 'fleet.yaml'
    config.write_text('roster:\n  robot_0: secrets/robot_0.key\n')
    code, out, err = keys_generate('--roster', str(config), '--out', str(tmp_path / 'keys'))
    assert code == 0, err
    assert f'(the roster names {tmp_path}/secrets/robot_0.key)' in out


def test_a_missing_roster_config_is_a_one_line_error(tmp_path, keys_generate):
    code, out, err = keys_generate('--roster', str(tmp_path / 'nope.yaml'), '--out', str(tmp_path))
    assert code == 2
    assert err.strip() == f'mtf-grasp keys: error: {tmp_path}/nope.yaml: no such config file'
