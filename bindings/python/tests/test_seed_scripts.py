"""The tutorials' own scripts run unchanged (but for the import line) on ferrosock.

Each server/client pair in seed_scripts/ (see its README for where each
comes from and which seeds were left out and why) runs as two subprocesses
with the client's ``input()`` lines fed on stdin.  The expected outputs below
are what the scripts print with the stdlib; ports (chosen by the kernel) are
masked as PORT.  For the ferrosock run the same pair is also run with
``import socket`` and the two outputs must be identical after masking.

Scripts that loop forever on ``input()`` end with EOFError when the test
closes their stdin: that is the tutorial's own behaviour, so those clients
exit with status 1 and the assertions cover what they printed before.

Skipped seeds, in short (details in seed_scripts/README.md): 001's
"打电话模型升级版" server calls ``s.accept()`` with ``s`` undefined (its fix is
the tutorial's later generations, tested here as gen4/gen5); 002 is Python 2;
004's looped versions lost their indentation; 001's 8082 UDP server floods.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

import pytest

from sockhelpers import PROC_WAIT, normalize_output, run_pair, with_import

SCRIPTS = pathlib.Path(__file__).parent / "seed_scripts"
EOF_TAIL = "EOFError: EOF when reading a line"
MASKED_CONN = "<socket.socket fd=N, family=2, type=1, proto=0, laddr=('127.0.0.1', PORT), raddr=('127.0.0.1', PORT)>"


@dataclass
class Pair:
    name: str
    proto: str = "tcp"
    client_stdin: list = field(default_factory=list)
    server_stdin: list = field(default_factory=list)
    server_exits: bool = True  # False: the tutorial's server loops forever and is killed by PID
    client_hits_eof: bool = False  # True: the client loops on input() until stdin ends
    client_out: str = ""
    server_out: str = ""


PAIRS = [
    Pair(
        "oneshot_input",
        client_stdin=["你好,服务器"],
        server_stdin=["收到,客户端"],
        client_out="请输入>>>发送给服务端的数据>>> 你好,服务器\n接收到服务端的数据>>> 收到,客户端\n",
        server_out=(
            "---服务器上线了---\n"
            "客户端的地址>>>: ('127.0.0.1', PORT)\n"
            "接收到客户端的数据>>> 你好,服务器\n"
            "请输入>>>发送给客户端的数据>>> 收到,客户端\n"
        ),
    ),
    Pair(
        "phone",
        client_out="DREAM IS HANDSOME\n",
        server_out="接到来自127.0.0.1的电话\nb'dream is handsome' <class 'bytes'>\n",
    ),
    Pair(
        "udp_echo",
        proto="udp",
        client_stdin=["hello", "", "你好"],
        server_exits=False,
        client_hits_eof=True,
        client_out=">>: HELLO ('127.0.0.1', PORT)\n>>: >>: 你好 ('127.0.0.1', PORT)\n>>: ",
        server_out="b'hello' ('127.0.0.1', PORT)\nb'\\xe4\\xbd\\xa0\\xe5\\xa5\\xbd' ('127.0.0.1', PORT)\n",
    ),
    Pair(
        "qq_chat",
        proto="udp",
        client_stdin=["狗哥alex", "在吗", "quit", "一棵树", "hi"],
        server_stdin=["在的", "HI BACK"],
        server_exits=False,
        client_hits_eof=True,
        client_out=(
            "请选择聊天对象: 请输入消息,回车发送: 来自[127.0.0.1:PORT]的一条消息:\x1b[1;44m在的\x1b[0m\n"
            "请输入消息,回车发送: 请选择聊天对象: 请输入消息,回车发送: "
            "来自[127.0.0.1:PORT]的一条消息:\x1b[1;44mHI BACK\x1b[0m\n"
            "请输入消息,回车发送: "
        ),
        server_out=(
            "来自[127.0.0.1:PORT]的一条消息:\x1b[1;44m在吗\x1b[0m\n回复消息: "
            "来自[127.0.0.1:PORT]的一条消息:\x1b[1;44mhi\x1b[0m\n回复消息: "
        ),
    ),
    Pair(
        "gen1",
        client_out="IS RUNNING FOR 发送信息\n",
        server_out=(
            "服务器启动,开始监听ip:>>>127.0.0.1,port:>>>0\n"
            f"这是服务端的conn:>>> {MASKED_CONN}\n"
            "这是服务端的client_addr:>>> ('127.0.0.1', PORT)\n"
            "从客户端接受的数据:>>>> is running for 发送信息\n"
        ),
    ),
    Pair(
        "gen4",
        client_stdin=["hello", "", "world", "q"],
        client_out=(
            "请输入需要发送的消息:>>>>HELLO\n"
            "请输入需要发送的消息:>>>>请输入需要发送的消息:>>>>WORLD\n"
            "请输入需要发送的消息:>>>>"
        ),
        server_out=(
            "服务器启动,开始监听ip:>>>127.0.0.1,port:>>>0\n"
            f"这是服务端的conn:>>> {MASKED_CONN}\n"
            "这是服务端的client_addr:>>> ('127.0.0.1', PORT)\n"
            "从客户端接受的数据:>>>> hello\n"
            "从客户端接受的数据:>>>> world\n"
        ),
    ),
    Pair(
        "gen5",
        client_stdin=["abc", "你好", "q"],
        server_exits=False,
        client_out="请输入需要发送的消息:>>>>ABC\n请输入需要发送的消息:>>>>你好\n请输入需要发送的消息:>>>>",
        server_out=(
            "服务器启动,开始监听ip:>>>127.0.0.1,port:>>>0\n"
            "这是服务端的client_addr:>>> ('127.0.0.1', PORT)\n"
            "从客户端接受的数据:>>>> abc\n"
            "从客户端接受的数据:>>>> 你好\n"
        ),
    ),
    Pair(
        "wechat",
        client_out="阿宸真帅\n",
        server_out="b'\\xe9\\x98\\xbf\\xe5\\xae\\xb8\\xe7\\x9c\\x9f\\xe5\\xb8\\x85'\n",
    ),
]


def _run(pair: Pair, flavour: str):
    """Run a pair: 'ferrosock' (import line edited), 'stdlib', or 'main' (the
    original `import socket`, run unmodified as `python -m ferrosock FILE`)."""
    text_flavour = "stdlib" if flavour == "main" else flavour
    server = with_import((SCRIPTS / f"{pair.name}_server.py").read_text(encoding="utf-8"), text_flavour)
    client = with_import((SCRIPTS / f"{pair.name}_client.py").read_text(encoding="utf-8"), text_flavour)
    return run_pair(
        server,
        client,
        pair.client_stdin,
        server_stdin_lines=pair.server_stdin,
        proto=pair.proto,
        timeout=PROC_WAIT,
        server_exits=pair.server_exits,
        via_main=flavour == "main",
    )


def _module_prefix(flavour: str) -> str:
    return "ferrosock.socket" if flavour == "ferrosock" else "socket"


def _check(pair: Pair, result, flavour: str):
    details = f"\nclient stderr:\n{result.client_err}\nserver stderr:\n{result.server_err}"
    assert not result.client_timed_out, "client did not finish in time" + details
    prefix = _module_prefix(flavour)
    client_out = normalize_output(result.client_out, prefix)
    server_out = normalize_output(result.server_out, prefix)
    assert client_out == pair.client_out, details
    assert server_out == pair.server_out, details
    if pair.client_hits_eof:
        assert result.client_rc == 1 and result.client_err.rstrip().endswith(EOF_TAIL), details
    else:
        assert (result.client_rc, result.client_err) == (0, ""), details
    if pair.server_exits:
        assert not result.server_killed, "server did not exit after its client" + details
        assert (result.server_rc, result.server_err) == (0, ""), details
    else:
        assert result.server_err == "", details


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_seed_pair(sockmod, pair):
    flavour = "ferrosock" if sockmod.__name__ == "ferrosock.socket" else "stdlib"
    result = _run(pair, flavour)
    _check(pair, result, flavour)
    if "这是服务端的conn" in pair.server_out:
        assert f"这是服务端的conn:>>> <{_module_prefix(flavour)}.socket fd=" in result.server_out
    if flavour == "ferrosock":
        # The same pair with the stdlib import prints the same thing.
        reference = _run(pair, "stdlib")
        _check(pair, reference, "stdlib")
        for attr in ("client_out", "server_out"):
            assert normalize_output(getattr(result, attr), "ferrosock.socket") == normalize_output(
                getattr(reference, attr), "socket"
            )
        assert result.client_err == reference.client_err


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_seed_pair_unmodified_under_python_m_ferrosock(ferrosock_socket, pair):
    """Every seed pair, with its original `import socket`, run as
    `python -m ferrosock script.py`: the engine stands in, the output is the
    tutorial's (the conn repr names ferrosock's class, proving which ran)."""
    result = _run(pair, "main")
    _check(pair, result, "ferrosock")
    if "这是服务端的conn" in pair.server_out:
        assert "这是服务端的conn:>>> <ferrosock.socket.socket fd=" in result.server_out


def test_seed_script_copies_are_well_formed():
    for path in sorted(SCRIPTS.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert text.count("from ferrosock import socket") == 1, path.name
        assert "\nimport socket\n" not in text and not text.startswith("import socket\n"), path.name
        assert "__PORT__" in text, path.name
        compile(text, path.name, "exec")
    assert len(list(SCRIPTS.glob("*_server.py"))) == len(list(SCRIPTS.glob("*_client.py"))) == len(PAIRS)


def _stripped_lines(text: str) -> list:
    return [line.strip() for line in text.splitlines()]


def _contains_block(haystack: list, needle: list) -> bool:
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def test_seed_script_copies_are_verbatim():
    """Undo the two edits (import line, port) and find each script, line for line, in its seed."""
    seeds_dir = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "seeds"
    if not seeds_dir.is_dir():
        pytest.skip(f"the seeds are not beside the repository ({seeds_dir})")
    seeds = [_stripped_lines(p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.txt"))]
    tutorial_ports = ("8888", "9000", "8081", "8080", "10086")
    for path in sorted(SCRIPTS.glob("*.py")):
        copy = path.read_text(encoding="utf-8").replace("from ferrosock import socket", "import socket")
        found = any(
            _contains_block(seed, _stripped_lines(copy.replace("__PORT__", port)))
            for port in tutorial_ports
            for seed in seeds
        )
        assert found, f"{path.name} is not a verbatim copy of a seed script"
