"""The web dashboard: its JSON API (bot.web.api, described by bot.web.openapi), the data it shows (bot.web.data)
and who may see and change what (bot.web.auth). Nothing is imported here: bot.config imports bot.settings.dashboard."""
