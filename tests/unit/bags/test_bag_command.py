"""`mtf-grasp bag from-dataset`: the CLI contract, its JSON summary and one-line errors."""
import json

from mtf_grasp.cli import main


def test_from_dataset_writes_mcap_by_default(tiny_jacquard, tmp_path, capsys):
    assert main(['bag', 'from-dataset', str(tiny_jacquard), '--out', str(tmp_path / 'bag'), '--json']) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary['storage'] == 'mcap' and summary['frames'] == 3
    assert (tmp_path / 'bag' / 'bag.mcap').is_file()


def test_sqlite3_storage_and_limit(tiny_jacquard, tmp_path, capsys):
    assert main(['bag', 'from-dataset', str(tiny_jacquard), '--out', str(tmp_path / 'b'), '--storage', 'sqlite3',
                 '--limit', '2']) == 0
    assert 'wrote 2 jacquard frames' in capsys.readouterr().out
    assert list((tmp_path / 'b').glob('*.db3'))


def test_errors_are_one_line(tiny_jacquard, tmp_path, capsys):
    assert main(['bag', 'from-dataset', str(tmp_path / 'nowhere'), '--out', str(tmp_path / 'b')]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('mtf-grasp bag: error:') and 'nowhere' in err and '\n' not in err
    assert main(['bag', 'from-dataset', str(tiny_jacquard), '--out', str(tmp_path / 'c'), '--period', '0']) == 2
    assert '--period' in capsys.readouterr().err
