"""Every HTTP surface of cobot that is not a webhook (bot.webhooks): bot.app.factory composes their route tables.

- The dashboard's JSON API (bot.web.api, described by bot.web.openapi, its parameters read by bot.web.params) and its
  pages (bot.web.pages, bot.web.campaign_pages, bot.web.operations_pages, made as bot.web.layout says, in the words of
  bot.web.i18n, the overview's chart drawn by bot.web.charts), sharing one Dashboard (bot.web.dashboard): the data it
  shows (bot.web.data, bot.web.profiles), its slow reads kept a while (bot.web.cache) and computed apart
  (bot.web.apart), what maintainers may do (bot.web.actions).
- Who may see and change what (bot.web.auth), the logins (bot.web.access, bot.web.login, bot.web.sessions, failed ones
  throttled by bot.web.throttle), the bodies read (bot.web.bodies), where `next` may lead (bot.web.local_path).
- Badge documents and images (bot.web.badges), digest charts (bot.web.digest), the Slack command (bot.web.slack).
- For every route: bodies within limits (bot.web.request_limits), private answers never cached (bot.web.no_store),
  refusals in JSON (bot.web.errors), and what `cobot serve` says it serves to whom (bot.web.exposure).

Nothing is imported here: bot.config imports bot.settings.dashboard."""
