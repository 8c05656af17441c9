"""The inbox worker: keeps the pipeline running in the background, processing what is due and sleeping until woken
or until a retry is due."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor

from bot.background import BackgroundLoop
from bot.pipeline.processor import Outcome, Pipeline
from bot.store.writing import WritingFlag, make_way


class Worker(BackgroundLoop):
    """Keeps the pipeline running: processes what is due, sleeps until woken or until a retry is due."""

    name = "inbox-worker"

    def __init__(self, pipeline: Pipeline, executor: Executor, on_actions: Callable[[], None],
                 writing: WritingFlag) -> None:
        super().__init__()
        self._pipeline = pipeline
        self._executor = executor
        self._on_actions = on_actions
        self._writing = writing

    def _process(self) -> Outcome:
        return self._pipeline.process_due(make_way=lambda: make_way(self._writing))

    async def step(self) -> int:
        outcome = await asyncio.get_running_loop().run_in_executor(self._executor, self._process)
        if outcome.actions:
            self._on_actions()
        return outcome.processed
