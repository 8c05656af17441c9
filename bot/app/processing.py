"""What happens after a delivery is acknowledged: the inbox worker runs the handlers, the outbox dispatcher
performs the actions they decided, and the scheduler ticks the campaigns. They run together, in the server
process (`inbox.worker = "thread"`) or in a process of their own (`"process"`, see `bot.app.worker_process`); either
way they make way for the inbox writer."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from bot.clock import Clock
from bot.config import Settings
from bot.notifiers.limits import ChannelLimits
from bot.notifiers.registry import build_notifiers
from bot.notifiers.urls import outbound_session
from bot.outbox.dispatcher import Dispatcher, WriteRate
from bot.pipeline.processor import Pipeline
from bot.pipeline.scheduler import Scheduler
from bot.pipeline.worker import Worker
from bot.platforms.registry import forge_clients, webhook_platforms
from bot.store.db import Database
from bot.store.writing import WritingFlag
from bot.web.apart import SLOW_READS
from campaigns.digest_chart import draw
from campaigns.runner import CampaignRunner

log = logging.getLogger("cobot")


class Processing:
    """The inbox worker and the outbox dispatcher of one process. Wake it when deliveries were stored."""

    def __init__(self, settings: Settings, db: Database, clock: Clock, writing: WritingFlag,
                 pipeline: Pipeline | None = None) -> None:
        self.clients = forge_clients(settings)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="inbox-worker")
        rate = WriteRate({name: settings.forge(name).writes_per_second for name in self.clients})
        notify = settings.notify
        self._http = outbound_session(notify.allow_hosts, settings.outbox.request_timeout_seconds)
        self.notifiers = build_notifiers(notify, self._http, lambda: clock().timestamp())
        limits = ChannelLimits({name: channel.limits() for name, channel in notify.channels.items()})
        self.dispatcher = Dispatcher(db, settings.outbox, clock, self.clients, rate, self._pool, self.notifiers,
                                     limits, notify, settings.community.language)
        self._owns_pipeline = pipeline is None
        self.pipeline = pipeline or Pipeline(db, settings, clock, webhook_platforms(settings))
        self.worker = Worker(self.pipeline, self._pool, self.dispatcher.wake, writing)
        self.scheduler: Scheduler | None = None
        if settings.scheduler.enabled:
            # a digest's chart drawn in the slow reads' worker (here, in the inbox worker's process): not where the
            # server answers, and before the tick's transaction (campaigns.runner)
            runner = CampaignRunner(db, settings, clock, draw=SLOW_READS.blocking(draw))
            self.scheduler = Scheduler(settings.scheduler, db, runner, clock, [c.name for c in settings.campaigns])

    def start(self) -> None:
        for name, client in self.clients.items():
            if client is None:
                log.warning("no %s token: outbox actions on %s are a dry run (logged, not performed)", name, name)
        self.worker.start()
        self.dispatcher.start()
        if self.scheduler is not None:
            self.scheduler.start()

    def wake(self) -> None:
        self.worker.wake()

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.worker.stop()
        await self.dispatcher.stop()
        for client in self.clients.values():
            if client is not None:
                await client.close()
        for notifier in self.notifiers.values():
            await notifier.close()
        await self._http.close()
        await asyncio.to_thread(self._pool.shutdown, wait=True)
        if self._owns_pipeline:
            self.pipeline.close()
