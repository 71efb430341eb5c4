"""Connection settings, read like linectl reads them.

Every setting has the same environment variable as linectl; arguments win.
"""

import dataclasses
import os
from typing import List, Optional, Sequence, Tuple

DEFAULT_SERVER = "127.0.0.1:50051"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


@dataclasses.dataclass
class Config:
    """Where and how to connect.

    servers: "host:port" strings; default $LINEBRIDGE_SERVER (comma-separated),
        else 127.0.0.1:50051. With several, their lines are merged.
    tls: TLS against the system roots ($LINEBRIDGE_TLS=1). Any tls_* implies it.
    tls_ca: CA bundle (PEM file) to verify the server ($LINEBRIDGE_TLS_CA).
    tls_cert, tls_key: client certificate and key for mutual TLS
        ($LINEBRIDGE_TLS_CERT, $LINEBRIDGE_TLS_KEY).
    tls_server_name: the name the server certificate carries, when it is not
        the host ($LINEBRIDGE_TLS_SERVER_NAME).
    token_file: file whose first line is a bearer token ($LINEBRIDGE_TOKEN_FILE);
    token: the token itself ($LINEBRIDGE_TOKEN).
    timeout: deadline of each unary RPC, seconds.
    """

    servers: List[str] = dataclasses.field(default_factory=list)
    tls: bool = False
    tls_ca: Optional[str] = None
    tls_cert: Optional[str] = None
    tls_key: Optional[str] = None
    tls_server_name: Optional[str] = None
    token_file: Optional[str] = None
    token: Optional[str] = None
    timeout: float = 5.0

    @classmethod
    def from_env(cls, servers: Optional[Sequence[str]] = None, **overrides) -> "Config":
        """The environment's settings with `overrides` (None values ignored) on top."""
        env = os.environ
        if isinstance(servers, str):
            servers = [servers]
        if not servers:
            servers = [s for s in env.get("LINEBRIDGE_SERVER", "").split(",") if s] or [
                DEFAULT_SERVER
            ]
        cfg = cls(
            servers=list(servers),
            tls=_env_flag("LINEBRIDGE_TLS"),
            tls_ca=env.get("LINEBRIDGE_TLS_CA") or None,
            tls_cert=env.get("LINEBRIDGE_TLS_CERT") or None,
            tls_key=env.get("LINEBRIDGE_TLS_KEY") or None,
            tls_server_name=env.get("LINEBRIDGE_TLS_SERVER_NAME") or None,
            token_file=env.get("LINEBRIDGE_TOKEN_FILE") or None,
            token=env.get("LINEBRIDGE_TOKEN") or None,
        )
        for key, value in overrides.items():
            if not hasattr(cfg, key):
                raise TypeError(f"unknown setting {key!r}")
            if value is not None:
                setattr(cfg, key, value)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert needs tls_key (and the other way round)")
        if not self.servers:
            raise ValueError("no server")

    @property
    def use_tls(self) -> bool:
        return bool(self.tls or self.tls_ca or self.tls_cert or self.tls_server_name)

    def bearer_token(self) -> Optional[str]:
        """The token: from token_file if set, else token."""
        if self.token_file:
            with open(self.token_file, encoding="utf-8") as f:
                first = f.readline().strip()
            if not first:
                raise ValueError(f"token file {self.token_file} is empty")
            return first
        return self.token or None

    def metadata(self) -> Tuple[Tuple[str, str], ...]:
        token = self.bearer_token()
        return (("authorization", f"Bearer {token}"),) if token else ()

    def channel_parts(self):
        """(credentials or None, channel options) for grpc's channel constructors."""
        import grpc  # pylint: disable=import-outside-toplevel

        options = [
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            # Reconnect quickly after a server restart.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 2000),
        ]
        if not self.use_tls:
            return None, options

        def read(path):
            if not path:
                return None
            with open(path, "rb") as f:
                return f.read()

        creds = grpc.ssl_channel_credentials(
            root_certificates=read(self.tls_ca),
            private_key=read(self.tls_key),
            certificate_chain=read(self.tls_cert),
        )
        if self.tls_server_name:
            options.append(("grpc.ssl_target_name_override", self.tls_server_name))
        return creds, options
