"""`cobot serve`: the webhook server, the inbox worker and the outbox dispatcher, until stopped."""

from __future__ import annotations

import logging
import sys

import click

from bot.app import serving
from bot.app.factory import create_app
from bot.cli.common import config_option, settings_or_exit, setup_logging
from bot.config import ConfigError
from bot.web.exposure import listening, statement

ACK_SWITCH_INTERVAL = 0.0005  # seconds (sys.setswitchinterval) in `cobot serve`


@click.command()
@config_option
@click.option("--host", default=None, help="address to listen on (default: server.host)")
@click.option("--port", type=int, default=None, help="port to listen on (default: server.port)")
@click.option("-v", "--verbose", is_flag=True, help="debug logging")
def serve(config_file: str | None, host: str | None, port: int | None, verbose: bool) -> None:
    """Run the webhook server, the inbox worker and the outbox dispatcher."""
    setup_logging(verbose)
    settings = listening(settings_or_exit(config_file), host, port)  # the address it serves on, as the app knows it
    app = create_app(settings)
    for level, line in statement(settings, app.router):  # what it serves to whom, said before it serves anything
        logging.getLogger("cobot").log(level, line)
    # Acknowledging a delivery takes the GIL a few times; a thread reading for the dashboard (its quick reads; its
    # slow ones too with dashboard.slow_reads = "thread") would hold it for the default 5 ms each time. Handing it
    # over every 0.5 ms keeps acknowledgements quick meanwhile.
    sys.setswitchinterval(ACK_SWITCH_INTERVAL)
    try:  # with a head timeout and a connection cap (see bot.app.serving)
        serving.run(app, host or settings.server.host, port if port is not None else settings.server.port,
                    settings.server, click.echo)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
