"""Every HTTP surface of cobot that is not a webhook (bot.webhooks): bot.app.factory composes their route tables.

- The dashboard (bot.web.dashboard): its pages and JSON API, what they show and what maintainers may do there.
- Who may see and change what (auth), the logins (access, login, sessions, failed ones throttled by throttle), the
  bodies read (bodies), where `next` may lead (local_path); slow reads kept a while (cache) and computed apart
  (apart).
- Badge documents and images (badges), digest charts (digest), the Slack command (slack).
- For every route: bodies within limits (request_limits), private answers never cached (no_store), refusals in JSON
  (errors), and what `cobot serve` says it serves to whom (exposure).

Nothing is imported here: bot.config imports bot.settings.dashboard."""
