"""A usage mistake prints one line naming the command and how to get help, and exits 2."""

from __future__ import annotations

import pytest

from xmargin.app.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([*args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["backtest", "x.toml", "--zzz"],
            "xmargin backtest: no such option '--zzz' (try 'xmargin backtest --help')",
        ),
        (
            ["backtest"],
            "xmargin backtest: missing argument 'CONFIG_FILE' (try 'xmargin backtest --help')",
        ),
        (
            ["backtest", "x.toml", "--out"],
            "xmargin backtest: option '--out' requires an argument (try 'xmargin backtest --help')",
        ),
        (["nosuch"], "xmargin: no such command 'nosuch' (try 'xmargin --help')"),
        (["--bogus"], "xmargin: no such option '--bogus' (try 'xmargin --help')"),
        (
            ["--debug", "data", "import", "--catalog"],
            "xmargin data import: option '--catalog' requires an argument"
            " (try 'xmargin data import --help')",
        ),
        (
            ["runs", "list", "--limit", "x"],
            "xmargin runs list: invalid value for '--limit': 'x' is not a valid integer range"
            " (try 'xmargin runs list --help')",
        ),
        (
            ["report", "1", "--format", "xml"],
            "xmargin report: invalid value for '--format': 'xml' is not one of 'table', 'json',"
            " 'csv' (try 'xmargin report --help')",
        ),
        (
            ["margin"],
            "xmargin margin: missing argument 'ACCOUNT_FILE' (try 'xmargin margin --help')",
        ),
    ],
)
def test_usage_error_is_one_line_with_exit_2(capsys, args, line):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err == line + "\n"


def test_a_suggestion_stays_on_the_same_line(capsys):
    code, _, err = run(capsys, "backtest", "x.toml", "--evnts-out", "e.jsonl")
    assert code == 2
    assert err == (
        "xmargin backtest: no such option '--evnts-out'. (Did you mean one of: '--events-out',"
        " '--out'?) (try 'xmargin backtest --help')\n"
    )


def test_help_still_works_and_exits_0(capsys):
    code, out, err = run(capsys, "backtest", "--help")
    assert code == 0
    assert out.startswith("Usage: xmargin backtest [OPTIONS] CONFIG_FILE")
    assert err == ""
