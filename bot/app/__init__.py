"""The running service: the aiohttp application and its routes (factory), the background work (processing,
worker_process) and the listening sockets (serving)."""
