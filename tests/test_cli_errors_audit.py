"""What stops the `salon` command is one line, `Error: …`, never a traceback: a bad
setting, an unknown account, a token name REST would refuse, a data directory that is a
file, a database URL salon cannot use, a PostgreSQL server or database that is not there.
And `salon apps create` prints a token scoped to the app it made."""

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from salon.settings import Settings
from tests.servers import free_port, run_cli

DOCS = Path(__file__).resolve().parent.parent / "docs"
PASSWORD = "s3cret-pw-4c1e"


def environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The test's environment without the caller's SALON_* settings, plus these."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SALON_")}
    return {**env, "SALON_DATA_DIR": str(data_dir), **settings}


def refused(result: subprocess.CompletedProcess, message: str) -> None:
    """The command failed with exactly this one line on stderr."""
    assert "Traceback" not in result.stderr, result.stderr
    assert (result.returncode, result.stderr) == (1, f"Error: {message}\n")
    assert PASSWORD not in result.stdout + result.stderr


def serve(env: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    """`salon serve` that should stop before it serves (quiet settings in case it does not)."""
    env = {"SALON_RTMP_PORT": "0", "SALON_MEDIA_BACKEND": "none", **env}
    return run_cli(env, *options, "serve", "--port", str(free_port()), check=False)


def test_tokens_create_for_an_unknown_account_says_so_like_apps_create(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    run_cli(env, "apps", "create", "first")
    message = "Account bogus does not exist."
    refused(run_cli(env, "apps", "create", "foo", "--account", "bogus", check=False), message)
    refused(run_cli(env, "tokens", "create", "--account", "bogus", check=False), message)
    account = json.loads(run_cli(env, "apps", "list", "--json").stdout)["account_id"]
    issued = json.loads(run_cli(env, "tokens", "create", "--account", account, "--json").stdout)
    assert issued["account_id"] == account and issued["app_id"] is None


@pytest.mark.parametrize("level", ["bogus", "warn", ""])
def test_an_unknown_log_level_is_one_line(tmp_path: Path, level: str) -> None:
    refused(serve(environment(tmp_path / "data", SALON_LOG_LEVEL=level)),
            "SALON_LOG_LEVEL: Input should be 'debug', 'info', 'warning', 'error' or 'critical'")


def test_log_levels_are_read_in_any_case(tmp_path: Path) -> None:
    for written, level in (("WARNING", "warning"), (" Debug ", "debug"), ("critical", "critical")):
        assert Settings(log_level=written).log_level == level
    listed = run_cli(environment(tmp_path / "data", SALON_LOG_LEVEL="ERROR"), "apps", "list")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr


def test_an_unknown_media_backend_is_one_line(tmp_path: Path) -> None:
    refused(serve(environment(tmp_path / "data", SALON_MEDIA_BACKEND="bogus")),
            "SALON_MEDIA_BACKEND: Input should be 'embedded' or 'none'")
    assert Settings(media_backend="none").media_backend == "none"


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    regular = tmp_path / "salon-data"
    regular.write_text("not a directory")
    message = f"The data directory {regular} is not a directory (--data-dir, SALON_DATA_DIR)."
    env = environment(tmp_path / "unused")
    refused(run_cli(env, "--data-dir", str(regular), "apps", "list", check=False), message)
    refused(serve(env, "--data-dir", str(regular)), message)
    refused(run_cli(env, "--data-dir", str(regular / "below"), "apps", "list", check=False),
            f"Cannot create the data directory {regular / 'below'}: Not a directory.")
    assert regular.read_text() == "not a directory"


@pytest.mark.parametrize("url, scheme", [
    (f"mysql://root:{PASSWORD}@127.0.0.1/salon", ", not mysql"),
    (f"mysql+pymysql://root:{PASSWORD}@127.0.0.1/salon", ", not mysql+pymysql"),
    (f"root:{PASSWORD}@127.0.0.1/salon", ""),
])
def test_an_unsupported_database_url_names_the_schemes_salon_supports(
        tmp_path: Path, url: str, scheme: str) -> None:
    message = ("SALON_DATABASE_URL: salon supports sqlite and postgresql URLs "
               f"(postgresql://user@host:5432/db, sqlite:///path/salon.db){scheme}")
    env = environment(tmp_path / "data")
    refused(run_cli(env, "--database-url", url, "apps", "list", check=False), message)
    refused(serve({**env, "SALON_DATABASE_URL": url}), message)


@pytest.mark.parametrize("url, scheme", [
    (f"localhost:6379/{PASSWORD}", ""),  # no scheme: Redis.from_url raised at start-up
    (f"http://:{PASSWORD}@127.0.0.1:6379/0", ", not http://"),
])
def test_a_redis_url_salon_cannot_open_is_one_line(tmp_path: Path, url: str,
                                                   scheme: str) -> None:
    refused(serve({**environment(tmp_path / "data"), "SALON_REDIS_URL": url}),
            "SALON_REDIS_URL: a Redis URL starts with redis://, rediss:// or unix:// "
            f"(redis://[:password@]host:6379/0){scheme}")


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite+aiosqlite:////",
                                 "sqlite:///?cache=shared"])
def test_a_sqlite_url_without_a_file_is_refused(url: str) -> None:
    """`sqlite:///` would open a temporary database and lose everything at exit."""
    with pytest.raises(ValueError, match="a sqlite URL names its file"):
        Settings(database_url=url)
    assert Settings(database_url="sqlite:///salon.db").database_url == "sqlite:///salon.db"


def test_a_blank_ice_servers_setting_means_none() -> None:
    """An env file's `SALON_ICE_SERVERS=` (or compose's `${VAR:-}`) is no servers, as
    operations.md says, not a JSON error that stops the server."""
    assert Settings(ice_servers="").ice_servers == Settings(ice_servers=" ").ice_servers == []
    assert Settings(redis_url=" redis://127.0.0.1:6379/0 ").redis_url.get_secret_value() \
        == "redis://127.0.0.1:6379/0"


def test_a_malformed_postgresql_url_is_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    for url in (f"postgresql://postgres:{PASSWORD}@127.0.0.1:port/salon",
                f"postgresql://postgres:{PASSWORD}@127.0.0.1:70000/salon"):
        refused(run_cli(env, "--database-url", url, "apps", "list", check=False),
                "SALON_DATABASE_URL: not a valid database URL: postgresql://user[:password]"
                "@host[:port]/database, the port a number from 1 to 65535")


def test_a_postgresql_server_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    port = free_port()  # bound and released: nothing listens there
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/salon"
    message = (f"Cannot reach the PostgreSQL server at 127.0.0.1:{port} (connection refused): "
               "is it running, and are the database URL's host and port right?")
    env = environment(tmp_path / "data")
    refused(run_cli(env, "--database-url", url, "tokens", "list", check=False), message)
    refused(serve(env, "--database-url", url), message)


def test_a_missing_postgresql_database_says_how_to_create_it(tmp_path: Path) -> None:
    name = f"salon_missing_{uuid.uuid4().hex[:12]}"
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/{name}"
    message = (f'The PostgreSQL server at 127.0.0.1:5432 has no database "{name}": create it '
               f"(createdb -h 127.0.0.1 -p 5432 -U postgres {name}) or fix the database URL.")
    env = environment(tmp_path / "data")
    refused(run_cli(env, "--database-url", url, "apps", "create", "x", check=False), message)
    refused(serve({**env, "SALON_DATABASE_URL": url}), message)


@pytest.mark.parametrize("name, message", [
    ("", "Token name must be 1 to 255 characters."),
    ("   ", "Token name must be 1 to 255 characters."),
    ("x" * 3000, "Token name must be 1 to 255 characters."),
    ("x" * 256, "Token name must be 1 to 255 characters."),
    ("a\tb", "Token name must not contain control characters (NUL, tab, newline, …)."),
])
def test_token_names_follow_the_rest_rule(tmp_path: Path, name: str, message: str) -> None:
    env = environment(tmp_path / "data")
    run_cli(env, "apps", "create", "first")
    before = run_cli(env, "tokens", "list", "--json").stdout
    refused(run_cli(env, "tokens", "create", "--name", name, check=False), message)
    assert run_cli(env, "tokens", "list", "--json").stdout == before  # nothing was made


def test_token_names_of_255_characters_are_kept_trimmed(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    run_cli(env, "apps", "create", "first")
    for name in ("y" * 255, "  ci  "):
        run_cli(env, "tokens", "create", "--name", name)
    names = [json.loads(line)["name"]
             for line in run_cli(env, "tokens", "list", "--json").stdout.splitlines()]
    assert names[-2:] == ["y" * 255, "ci"]


def test_apps_create_says_its_token_is_account_wide(tmp_path: Path) -> None:
    """Its token reaches every app of the account; the help must not promise less."""
    env = environment(tmp_path / "data")
    run_cli(env, "apps", "create", "first", "--json")
    tokens = [json.loads(line)
              for line in run_cli(env, "tokens", "list", "--json").stdout.splitlines()]
    assert [t["app_id"] for t in tokens] == [None]
    assert "account-wide" in " ".join(run_cli(env, "apps", "create", "--help").stdout.split())


def test_operations_md_says_a_threshold_of_0_turns_large_rooms_off() -> None:
    row = next(line for line in (DOCS / "operations.md").read_text().splitlines()
               if line.startswith("| `SALON_LARGE_ROOM_THRESHOLD`"))
    assert "`0` turns large rooms off" in row and "every room large" not in row
    assert re.search(r"`0` turns large rooms off", (DOCS / "large-rooms.md").read_text())


@pytest.mark.parametrize("url", [f"redis://:{PASSWORD}@127.0.0.1:notaport/0",
                                 f"redis://:{PASSWORD}@127.0.0.1:99999/0"])
def test_a_redis_url_with_a_bad_port_is_one_line(tmp_path: Path, url: str) -> None:
    """It passed the scheme check and failed at start-up, with a traceback."""
    message = ("SALON_REDIS_URL: not a valid Redis URL: redis://[:password@]host[:port]/db, "
               "the port a number from 1 to 65535, the db a number")
    env = {**environment(tmp_path / "data"), "SALON_REDIS_URL": url}
    refused(serve(env), message)
    refused(run_cli(env, "nodes", check=False), message)


def test_nodes_without_its_redis_is_one_line(tmp_path: Path) -> None:
    env = {**environment(tmp_path / "data"),
           "SALON_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nobody listens
    result = run_cli(env, "nodes", check=False)
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    assert result.stderr.startswith("Error: Cannot read the cluster from Redis "
                                    "(SALON_REDIS_URL): ConnectionError")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(("name", "value", "bound"), [
    ("SALON_PORT", "-1", "greater than or equal to 1"),
    ("SALON_PORT", "70000", "less than or equal to 65535"),
    ("SALON_SESSION_HEARTBEAT_SECS", "0", "greater than 0"),
    ("SALON_REALTIME_IDLE_TIMEOUT_SECS", "0", "greater than 0"),
    ("SALON_RESUME_GRACE_SECS", "-1", "greater than or equal to 0"),
    ("SALON_PARTICIPANT_TOKEN_TTL_SECS", "-5", "greater than or equal to 60"),
    ("SALON_WEBHOOK_MAX_ATTEMPTS", "0", "greater than or equal to 1"),
    ("SALON_WEBHOOK_TIMEOUT_SECS", "0", "greater than 0"),
    ("SALON_CHAT_MAX_FILE_BYTES", "-1", "greater than or equal to 1"),
    ("SALON_TURN_TTL_SECS", "-1", "greater than or equal to 60"),
    ("SALON_MEDIA_UDP_RCVBUF", "-1", "greater than or equal to 1024"),
    ("SALON_KEEP_ALIVE_CAP_SECS", "-3", "greater than 0"),
])
def test_a_setting_out_of_its_bounds_is_one_line(tmp_path: Path, name: str, value: str,
                                                  bound: str) -> None:
    """Each was taken as it came (a heartbeat of 0, a token that expired as it was made)."""
    refused(run_cli({**environment(tmp_path / "data"), name: value}, "apps", "list",
                    check=False), f"{name}: Input should be {bound}")


def test_an_empty_keep_alive_cap_is_unset(tmp_path: Path) -> None:
    run_cli({**environment(tmp_path / "data"), "SALON_KEEP_ALIVE_CAP_SECS": ""}, "apps", "list")


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    """99999 was taken modulo 65536: the server listened on another port than it said."""
    result = run_cli(environment(tmp_path / "data"), "serve", "--port", "99999", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'--port': 99999 is not in the range 1<=x<=65535" in result.stderr


@pytest.mark.parametrize("name", ["a\nb", "tab\there"])
def test_apps_create_follows_the_rest_name_rule(tmp_path: Path, name: str) -> None:
    refused(run_cli(environment(tmp_path / "data"), "apps", "create", name, check=False),
            "App name must not contain control characters (NUL, tab, newline, …).")


def test_the_token_of_an_app_with_a_long_name_has_a_label_of_255(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    run_cli(env, "apps", "create", "z" * 255)
    names = [json.loads(line)["name"]
             for line in run_cli(env, "tokens", "list", "--json").stdout.splitlines()]
    assert names == [f"app {'z' * 251}"]
