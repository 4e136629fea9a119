"""The SOAP half of a fake WinRM endpoint: the WinRS actions on shells and commands.

:class:`WSManEndpoint` answers Create, Command, Send, Receive, Signal and Delete; what a command
prints is decided by a ``handler``. It is served over HTTP by ``wsman_server.WSManServer`` (one
endpoint) or ``fleet.SimulatedFleet`` (one endpoint per simulated host).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import itertools
import ntpath
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from xml.sax.saxutils import escape, quoteattr

from .wsman_http import Dropped, HttpControls

__all__ = [
    "CommandRequest",
    "CommandResult",
    "Handler",
    "RequestRecord",
    "WSManEndpoint",
    "WSManFault",
    "encode_output",
]

SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_RESOURCE = f"{SHELL}/cmd"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": SHELL,
}
ACTIONS = {f"{TRANSFER}/Create": "Create", f"{TRANSFER}/Delete": "Delete"} | {
    f"{SHELL}/{name}": name for name in ("Command", "Send", "Receive", "Signal")
}
OPERATION_TIMEOUT_CODE = 2150858793  # pywinrm maps exactly this code to WinRMOperationTimeoutError
SHELL_NOT_FOUND_CODE = 2150858843
INVALID_ARGUMENT_CODE = 2147942487  # HRESULT E_INVALIDARG
_POWERSHELL = {"powershell", "powershell.exe", "pwsh", "pwsh.exe"}


@dataclass(frozen=True)
class CommandRequest:
    """What the client asked to run, handed to the handler once stdin is complete."""

    command: str
    arguments: list[str]
    stdin: bytes
    codepage: int
    username: str
    console_mode_stdin: bool = True
    skip_cmd_shell: bool = False
    noprofile: bool = False

    @property
    def command_line(self) -> str:
        return " ".join([self.command, *self.arguments]).strip()

    @property
    def script(self) -> str | None:
        """The script of ``powershell -EncodedCommand <base64 UTF-16-LE>``, else None."""
        tokens = [token.strip('"') for token in self.command_line.split()]
        if not tokens or ntpath.basename(tokens[0]).lower() not in _POWERSHELL:
            return None
        for flag, value in itertools.pairwise(tokens[1:]):
            name = flag.lstrip("-/").lower()
            # powershell.exe takes any unambiguous prefix, and -e/-ec as documented aliases.
            if flag[:1] in "-/" and (
                name in ("e", "ec") or (len(name) > 1 and "encodedcommand".startswith(name))
            ):
                try:
                    return base64.b64decode(value, validate=True).decode("utf-16-le")
                except (binascii.Error, UnicodeDecodeError):
                    return None
        return None


@dataclass
class CommandResult:
    """What the command printed; ``str`` output is encoded with the shell's code page."""

    stdout: str | bytes
    stderr: str | bytes = ""
    exit_code: int = 0
    delay: float = 0.0  # seconds to wait before answering Receive, to simulate a slow host


class WSManFault(Exception):
    """Raise from a handler to answer with a SOAP fault carrying a Windows WSManFault detail."""

    def __init__(
        self, code: int, message: str, http_status: int = 500, subcode: str = "w:InternalError"
    ) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.http_status, self.subcode = http_status, subcode

    @classmethod
    def operation_timeout(cls) -> WSManFault:
        """The fault Windows sends when a Receive outlasts the request's OperationTimeout."""
        text = "The WS-Management service cannot complete the operation within the time"
        return cls(
            OPERATION_TIMEOUT_CODE, f"{text} specified in OperationTimeout.", 500, "w:TimedOut"
        )


@dataclass(frozen=True)
class RequestRecord:
    """One WS-Management request: ``body`` as on the wire, ``xml`` after decryption."""

    action: str
    body: bytes
    xml: bytes
    user: str
    content_type: str


Handler = Callable[[CommandRequest], CommandResult]


def encode_output(text: str | bytes, codepage: int) -> bytes:
    """Encode like a Windows console does: unencodable characters become ``?``."""
    if isinstance(text, bytes):
        return text
    return text.encode("utf-8" if codepage == 65001 else f"cp{codepage}", errors="replace")


@dataclass
class _Shell:
    id: str
    codepage: int
    noprofile: bool
    commands: dict[str, _Command] = field(default_factory=dict)


@dataclass
class _Command:
    id: str
    shell: _Shell
    request: CommandRequest  # stdin is filled in when it is complete
    stdin: list[bytes] = field(default_factory=list)
    stdin_ended: bool = False
    output: list[bytes] | None = None  # stdout and stderr not yet handed out by Receive
    exit_code: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class _Soap:
    shell_id: str
    options: dict[str, str]
    body: ET.Element
    user: str


def _find(parent: ET.Element, path: str) -> ET.Element:
    found = parent.find(path, NS)
    if found is None:
        raise WSManFault(INVALID_ARGUMENT_CODE, f"missing {path}", 400, "w:SchemaValidationError")
    return found


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    namespaces = " ".join(f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in NS.items())
    return (
        f'<s:Envelope xml:lang="en-US" {namespaces} xmlns:x="{TRANSFER}"><s:Header>'
        f"<a:Action>{escape(action)}</a:Action><a:MessageID>uuid:{_new_id()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _fault(fault: WSManFault) -> str:
    side = "s:Sender" if fault.http_status < 500 else "s:Receiver"
    message = escape(fault.message)
    return (
        f"<s:Fault><s:Code><s:Value>{side}</s:Value><s:Subcode><s:Value>{escape(fault.subcode)}"
        f'</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{message}</s:Text>'
        '</s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/'
        f'wsmanfault" Code="{fault.code}" Machine="127.0.0.1"><f:Message>{message}</f:Message>'
        "</f:WSManFault></s:Detail></s:Fault>"
    )


def _new_id() -> str:
    return str(uuid.uuid4()).upper()


class WSManEndpoint(HttpControls):
    """Shell and command state of one simulated Windows host, and its SOAP answers.

    Subclasses provide ``url`` (echoed in Create's ResourceCreated) and may override the
    ``_op_<action>`` methods to inject faults.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        default_codepage: int = 437,
        receive_chunk_size: int = 32 * 1024,
        errors: list[BaseException] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        super().__init__(errors=errors, stopping=stopping)
        self.handler: Handler = handler or (lambda request: CommandResult(stdout=""))
        self.default_codepage = default_codepage
        self.receive_chunk_size = receive_chunk_size
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._shells: dict[str, _Shell] = {}

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot of the WS-Management requests received so far."""
        with self._lock:
            return list(self._requests)

    @property
    def actions(self) -> list[str]:
        return [record.action for record in self.requests]

    @property
    def open_shell_ids(self) -> list[str]:
        with self._lock:
            return list(self._shells)

    def process(self, xml: bytes, wire: bytes, user: str, content_type: str) -> tuple[int, bytes]:
        """Answer one SOAP request with an HTTP status and response envelope."""
        message_id = ""
        try:
            try:
                root = ET.fromstring(xml)  # noqa: S314 - loopback test double fed by the test's own client
            except ET.ParseError as exc:
                raise WSManFault(INVALID_ARGUMENT_CODE, f"bad XML: {exc}", 400) from exc
            header = _find(root, "s:Header")
            message_id = header.findtext("a:MessageID", "", NS).strip()
            action = header.findtext("a:Action", "", NS).strip()
            name = ACTIONS.get(action, action.rsplit("/", 1)[-1])
            with self._lock:
                self._requests.append(RequestRecord(name, wire, xml, user, content_type))
            if action not in ACTIONS or header.findtext("w:ResourceURI", "", NS) != CMD_RESOURCE:
                unsupported = f"unsupported: {action}"
                raise WSManFault(INVALID_ARGUMENT_CODE, unsupported, 500, "a:ActionNotSupported")
            options = {
                option.get("Name", ""): (option.text or "").strip()
                for option in header.findall("w:OptionSet/w:Option", NS)
            }
            selector = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
            shell_id = (selector.text or "").strip() if selector is not None else ""
            soap = _Soap(shell_id, options, _find(root, "s:Body"), user)
            response = getattr(self, f"_op_{name.lower()}")(soap)
            relates_to = self._relates_to(name, message_id)
            return 200, _envelope(f"{action}Response", relates_to, response)
        except WSManFault as fault:
            action = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
            return fault.http_status, _envelope(action, message_id, _fault(fault))

    def _relates_to(self, action: str, message_id: str) -> str:
        """The RelatesTo of the answer to ``action``: the request's MessageID, unless a
        subclass makes a host answer another request."""
        return message_id

    def _shell(self, shell_id: str) -> _Shell:
        shell = self._shells.get(shell_id)
        if shell is None:
            raise WSManFault(
                SHELL_NOT_FOUND_CODE,
                f"The request for the Windows Remote Shell with ShellId {shell_id} failed "
                "because the shell was not found on the server.",
                subcode="w:InvalidSelectors",
            )
        return shell

    def _command(self, shell_id: str, command_id: str | None) -> _Command:
        with self._lock:
            command = self._shell(shell_id).commands.get(command_id or "")
        if command is None:
            raise WSManFault(INVALID_ARGUMENT_CODE, f"unknown CommandId {command_id}")
        return command

    def _op_create(self, soap: _Soap) -> str:
        try:
            codepage = int(soap.options.get("WINRS_CODEPAGE", self.default_codepage))
            codecs.lookup("utf-8" if codepage == 65001 else f"cp{codepage}")
        except (ValueError, LookupError) as exc:
            raise WSManFault(INVALID_ARGUMENT_CODE, f"invalid code page: {exc}") from exc
        _find(soap.body, "rsp:Shell")
        noprofile = soap.options.get("WINRS_NOPROFILE", "FALSE").upper() == "TRUE"
        shell = _Shell(_new_id(), codepage, noprofile)
        with self._lock:
            self._shells[shell.id] = shell
        return (
            f"<x:ResourceCreated><a:Address>{escape(self.url)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{CMD_RESOURCE}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell.id}</w:Selector></w:SelectorSet>'
            "</a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell.id}</rsp:ShellId><rsp:Owner>{escape(soap.user)}"
            "</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout "
            "stderr</rsp:OutputStreams></rsp:Shell>"
        )

    def _op_command(self, soap: _Soap) -> str:
        line = _find(soap.body, "rsp:CommandLine")
        with self._lock:
            shell = self._shell(soap.shell_id)
            request = CommandRequest(
                command=line.findtext("rsp:Command", "", NS),
                arguments=[arg.text or "" for arg in line.findall("rsp:Arguments", NS)],
                stdin=b"",
                codepage=shell.codepage,
                username=soap.user,
                console_mode_stdin=soap.options.get("WINRS_CONSOLEMODE_STDIN") != "FALSE",
                skip_cmd_shell=soap.options.get("WINRS_SKIP_CMD_SHELL") == "TRUE",
                noprofile=shell.noprofile,
            )
            command = _Command(_new_id(), shell, request)
            shell.commands[command.id] = command
        return (
            f"<rsp:CommandResponse><rsp:CommandId>{command.id}</rsp:CommandId>"
            "</rsp:CommandResponse>"
        )

    def _op_send(self, soap: _Soap) -> str:
        stream = _find(soap.body, "rsp:Send/rsp:Stream")
        command = self._command(soap.shell_id, stream.get("CommandId"))
        try:
            data = base64.b64decode(stream.text or "", validate=True)
        except binascii.Error as exc:
            raise WSManFault(INVALID_ARGUMENT_CODE, f"stdin is not base64: {exc}") from exc
        with command.lock:
            if command.stdin_ended or stream.get("Name") != "stdin":
                raise WSManFault(INVALID_ARGUMENT_CODE, "stdin is closed or not an input stream")
            command.stdin.append(data)
            command.stdin_ended = stream.get("End", "false").lower() == "true"
        return "<rsp:SendResponse/>"

    def _op_receive(self, soap: _Soap) -> str:
        wanted = _find(soap.body, "rsp:Receive/rsp:DesiredStream")
        command = self._command(soap.shell_id, wanted.get("CommandId"))
        with command.lock:
            output = command.output if command.output is not None else self._run(command)
            size = self.receive_chunk_size
            chunks = [("stdout", output[0][:size]), ("stderr", output[1][:size])]
            command.output = [data[size:] for data in output]
        streams = "".join(
            f'<rsp:Stream Name="{name}" CommandId="{command.id}">{base64.b64encode(data).decode()}'
            "</rsp:Stream>"
            for name, data in chunks
            if data
        )
        state = f'<rsp:CommandState CommandId="{command.id}" State="{SHELL}/CommandState/'
        if any(command.output):
            state += 'Running"/>'
        else:
            streams += "".join(
                f'<rsp:Stream Name="{name}" CommandId="{command.id}" End="true"></rsp:Stream>'
                for name in ("stdout", "stderr")
            )
            state += f'Done"><rsp:ExitCode>{command.exit_code}</rsp:ExitCode></rsp:CommandState>'
        return f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>"

    def _run(self, command: _Command) -> list[bytes]:
        # A Receive before End="true" means the client will send no (more) stdin.
        command.stdin_ended = True
        try:
            result = self.handler(replace(command.request, stdin=b"".join(command.stdin)))
        except WSManFault:
            raise  # not cached: the next Receive asks the handler again
        except Exception as exc:
            self.errors.append(exc)
            raise WSManFault(INVALID_ARGUMENT_CODE, f"test handler failed: {exc!r}") from exc
        if result.delay and self.stopping.wait(result.delay):
            raise Dropped
        command.exit_code = result.exit_code
        codepage = command.request.codepage
        return [encode_output(text, codepage) for text in (result.stdout, result.stderr)]

    def _op_signal(self, soap: _Soap) -> str:
        signal = _find(soap.body, "rsp:Signal")
        command = self._command(soap.shell_id, signal.get("CommandId"))
        if signal.findtext("rsp:Code", "", NS).strip().endswith("/signal/terminate"):
            with self._lock:
                command.shell.commands.pop(command.id, None)
        return "<rsp:SignalResponse/>"

    def _op_delete(self, soap: _Soap) -> str:
        with self._lock:
            del self._shells[self._shell(soap.shell_id).id]
        return ""
