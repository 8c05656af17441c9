"""The `[notify]` section: named channels, the rules that route what happened to them, and outbound URL safety.

Secrets (tokens, webhook URLs that carry a key, signing secrets, SMTP passwords) may be written in the file or,
better, named by an environment variable: any field `X` can be given as `X_env = "VARIABLE"`.

    [notify]
    allow_hosts = []                      # hosts allowed although they resolve to private addresses
    per_person_per_hour = 10              # event notifications about one person's events in an hour (0: no limit)

    [notify.channels.maintainers]
    kind = "feishu"
    url_env = "COBOT_FEISHU_WEBHOOK"
    secret_env = "COBOT_FEISHU_SECRET"
    language = "zh"

    [[notify.rules]]
    topics = ["newcomer", "failure"]
    channels = ["maintainers"]
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from bot.events import EVENT_KINDS

Language = Literal["zh", "en"]
Topic = Literal["newcomer", "event", "campaign", "digest", "badge", "failure"]
TOPICS: tuple[str, ...] = ("newcomer", "event", "campaign", "digest", "badge", "failure")
RateLimit = tuple[int, float]  # at most COUNT messages in any SECONDS

# What each platform allows (per robot / per channel); messages beyond wait their turn in the outbox.
DEFAULT_RATE_LIMITS: dict[str, list[RateLimit]] = {
    "slack": [(1, 1.0)],
    "slack_webhook": [(1, 1.0)],
    "feishu": [(5, 1.0), (100, 60.0)],
    "dingtalk": [(20, 60.0)],
    "wecom": [(20, 60.0)],
    "email": [],
    "webhook": [],
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class ChannelBase(Section):
    language: Language | None = None  # default: the community's language
    rate_limits: list[RateLimit] | None = None  # default: the platform's (DEFAULT_RATE_LIMITS)

    @field_validator("rate_limits")
    @classmethod
    def _positive(cls, value: list[RateLimit] | None) -> list[RateLimit] | None:
        for count, seconds in value or ():
            if count < 1 or seconds <= 0:
                raise ValueError("each limit is [count ≥ 1, seconds > 0]")
        return value

    def limits(self) -> list[RateLimit]:
        kind = getattr(self, "kind", "")
        return list(self.rate_limits if self.rate_limits is not None else DEFAULT_RATE_LIMITS.get(kind, []))

    def secrets(self) -> list[str]:
        """The values of this channel that must never be shown."""
        names = ("token", "url", "secret", "password")
        return [value for name in names if isinstance(value := getattr(self, name, None), str) and value]

    def urls(self) -> dict[str, str]:
        """The outbound URLs this channel sends to, by field name (checked for safety)."""
        return {name: value for name in ("url", "api_url")
                if isinstance(value := getattr(self, name, None), str) and value}


class SlackChannel(ChannelBase):
    """Slack's Web API (`chat.postMessage` with Block Kit) with a bot token."""

    kind: Literal["slack"]
    token: str = Field(repr=False)
    channel: str  # "#community" or a channel id
    api_url: HttpUrl = "https://slack.com/api/"



class SlackWebhookChannel(ChannelBase):
    """A Slack incoming-webhook URL (the URL is the secret)."""

    kind: Literal["slack_webhook"]
    url: HttpUrl = Field(repr=False)



class FeishuChannel(ChannelBase):
    """A Feishu/Lark custom bot; `secret` enables its signature check."""

    kind: Literal["feishu"]
    url: HttpUrl = Field(repr=False)
    secret: str = Field("", repr=False)
    card: bool = False  # an interactive card instead of a `post` rich-text message



class DingTalkChannel(ChannelBase):
    """A DingTalk custom robot (`markdown`); `secret` adds the `timestamp` and `sign` query parameters."""

    kind: Literal["dingtalk"]
    url: HttpUrl = Field(repr=False)
    secret: str = Field("", repr=False)



class WeComChannel(ChannelBase):
    """A WeCom (企业微信) group robot (`markdown`)."""

    kind: Literal["wecom"]
    url: HttpUrl = Field(repr=False)



class EmailChannel(ChannelBase):
    """E-mail over SMTP: multipart HTML + plain text."""

    kind: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"  # tls: implicit TLS (usually port 465)
    username: str = ""
    password: str = Field("", repr=False)
    sender: str  # "cobot <cobot@example.org>"
    recipients: list[str] = Field(min_length=1)
    unsubscribe: str = ""  # a mailto: or https: address for the List-Unsubscribe header
    timeout_seconds: float = Field(30.0, gt=0)


class WebhookChannel(ChannelBase):
    """A generic JSON webhook: the notification as JSON; with `secret`, an `X-Cobot-Signature-256` HMAC."""

    kind: Literal["webhook"]
    url: HttpUrl = Field(repr=False)
    secret: str = Field("", repr=False)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)



Channel = Annotated[
    SlackChannel | SlackWebhookChannel | FeishuChannel | DingTalkChannel | WeComChannel | EmailChannel
    | WebhookChannel,
    Field(discriminator="kind"),
]


class NotifyRule(Section):
    """What goes where. Every list left empty matches anything; a notification goes to each channel of each
    rule it matches (once per channel)."""

    topics: list[Topic] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)  # event kinds: issue.opened, pr.merged, ...
    repos: list[str] = Field(default_factory=list)  # "owner/name" (either platform) or "gitee:owner/name"
    labels: list[str] = Field(default_factory=list)  # any one of these labels
    channels: list[str] = Field(min_length=1)
    language: Language | None = None  # default: the channel's, then the community's

    @field_validator("events")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        unknown = [kind for kind in value if kind not in EVENT_KINDS]
        if unknown:
            raise ValueError(f"unknown event kinds {unknown}; known: {', '.join(sorted(EVENT_KINDS))}")
        return value


class NotifySettings(Section):
    channels: dict[str, Channel] = Field(default_factory=dict)
    rules: list[NotifyRule] = Field(default_factory=list)
    allow_hosts: list[str] = Field(default_factory=list)  # reachable although private (tests, an intranet)
    per_person_per_hour: int = Field(10, ge=0)  # event notifications one person's events cause in an hour, counted
    #   once per event whatever the channels (0: no limit; maintainers have none); past it their events are not
    #   announced, and one notice an hour says so (bot.notifiers.per_person)

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_environment(cls, data: Any, info: ValidationInfo) -> Any:
        """`X_env = "VARIABLE"` in a channel becomes `X = $VARIABLE` (an unset variable is an error)."""
        if not isinstance(data, dict) or not isinstance(data.get("channels"), dict):
            return data
        env = (info.context or {}).get("env")
        if env is None:
            import os

            env = os.environ
        channels: dict[str, Any] = {}
        for name, channel in data["channels"].items():
            if isinstance(channel, dict):
                channel = dict(channel)
                for field_name in [key for key in channel if key.endswith("_env")]:
                    variable = channel.pop(field_name)
                    if not isinstance(variable, str) or not env.get(variable):
                        raise ValueError(f"channels.{name}.{field_name}: environment variable {variable!r} is not set")
                    channel[field_name.removesuffix("_env")] = env[variable]
            channels[name] = channel
        return {**data, "channels": channels}

    @model_validator(mode="after")
    def _rules_name_known_channels(self) -> NotifySettings:
        for index, rule in enumerate(self.rules):
            for name in rule.channels:
                if name not in self.channels:
                    known = ", ".join(sorted(self.channels)) or "none configured"
                    raise ValueError(f"rules[{index}].channels: unknown channel {name!r} (channels: {known})")
        return self
