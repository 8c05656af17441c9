"""The dashboard: its pages (pages, campaign_pages, operations_pages, layout), its JSON API (api, described by
openapi, reading its parameters through params), what both show (data, profiles, charts) and change (actions), the
shared state of one dashboard (board) and its words in zh and en (i18n, texts/)."""
