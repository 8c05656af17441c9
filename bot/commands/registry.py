"""Every command, registered once: its usage, who may run it, what it does, examples.

`/help`, the permission check, the Slack `help` answer and the README's command tables all come from here
(tests/test_command_registry.py keeps the README in step: `python -m bot.commands.registry` prints the tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.commands.answers import message
from bot.messages.escape import Markdown
from bot.settings.commands import Role

Where = Literal["issue", "pr", "both"]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    role: Role
    summary: dict[str, str]  # language → one line
    examples: tuple[str, ...] = ()
    where: Where = "both"
    author_may: bool = False  # the or PR's author may run it whatever their role
    max_args: int | None = None  # None: any number
    min_args: int = 0

    def allowed_on(self, is_pr: bool) -> bool:
        return self.where == "both" or (self.where == "pr") == is_pr

    def who(self, language: str, role: Role | None = None) -> str:
        """Who may run it, in words (`role`: the role it needs, when config changed it)."""
        names = ROLE_NAMES[language if language in ROLE_NAMES else "en"]
        text = names[self.role if role is None else role]
        if self.author_may:
            text += " " + AUTHOR_TOO[language if language in AUTHOR_TOO else "en"]
        return text


ROLE_NAMES: dict[str, dict[Role, str]] = {
    "en": {Role.CONTRIBUTOR: "anyone", Role.TRIAGER: "triagers and maintainers", Role.MAINTAINER: "maintainers"},
    "zh": {Role.CONTRIBUTOR: "所有人", Role.TRIAGER: "分类员（triager）和维护者", Role.MAINTAINER: "维护者"},
}
AUTHOR_TOO = {"en": "and the author", "zh": "及作者本人"}


def _spec(name: str, usage: str, role: Role, en: str, zh: str, *examples: str, **options: object) -> CommandSpec:
    return CommandSpec(name=name, usage=usage, role=role, summary={"en": en, "zh": zh}, examples=examples,
                       **options)  # type: ignore[arg-type]


C, T, M = Role.CONTRIBUTOR, Role.TRIAGER, Role.MAINTAINER

# Comment commands, in the order /help lists them.
COMMAND_LIST: tuple[CommandSpec, ...] = (
    _spec("claim", "/claim", C, "take this issue: it is assigned to you", "认领这个 Issue（将它分配给你）",
          "/claim", where="issue", max_args=0),
    _spec("unclaim", "/unclaim", C, "give this issue back", "放弃认领这个 Issue", "/unclaim", where="issue",
          max_args=0),
    _spec("assign", "/assign [@user…]", T, "assign people (yourself without a name)",
          "分配给指定的人（不写则分配给自己）", "/assign @alice", "/assign"),
    _spec("unassign", "/unassign [@user…]", T, "unassign people (yourself without a name)",
          "取消分配（不写则取消自己）", "/unassign @alice"),
    _spec("label", "/label NAME…", T, "add labels (quote a name with spaces)", "添加标签（含空格的名字请加引号）",
          '/label bug "needs review"', min_args=1),
    _spec("remove-label", "/remove-label NAME…", T, "remove labels", "移除标签", "/remove-label wontfix", min_args=1),
    _spec("good-first-issue", "/good-first-issue", T, "mark as a good first issue for newcomers",
          "标记为适合新手的 Issue", "/good-first-issue", where="issue", max_args=0),
    _spec("help-wanted", "/help-wanted", T, "ask the community for help on this issue", "标记为需要社区帮助",
          "/help-wanted", where="issue", max_args=0),
    _spec("close", "/close", T, "close this issue or PR", "关闭这个 Issue 或 PR", "/close", author_may=True,
          max_args=0),
    _spec("reopen", "/reopen", T, "reopen this issue or PR", "重新打开这个 Issue 或 PR", "/reopen", author_may=True,
          max_args=0),
    _spec("stats", "/stats [@user]", C, "someone's contributions (yours without a name)",
          "查看贡献统计（不写则为自己）", "/stats", "/stats @alice", max_args=1),
    _spec("leaderboard", "/leaderboard", C, "the most active contributors lately", "近期最活跃的贡献者排行",
          "/leaderboard", max_args=0),
    _spec("award", "/award BADGE @user", M, "award a badge", "授予徽章", "/award docs-hero @alice",
          min_args=2, max_args=2),
    _spec("campaign", "/campaign join|leave NAME", C, "join or leave a training camp", "加入或退出训练营",
          "/campaign join spring-camp", min_args=2, max_args=2),
    _spec("help", "/help", C, "list the commands", "列出所有命令", "/help", max_args=0),
)
COMMANDS: dict[str, CommandSpec] = {spec.name: spec for spec in COMMAND_LIST}

# The Slack slash command's sub-commands: `/cobot SUB ...`.
SLACK_LIST: tuple[CommandSpec, ...] = (
    _spec("stats", "stats [user]", C, "someone's contributions (yours without a name)",
          "查看贡献统计（不写则为自己）", "/cobot stats", "/cobot stats github:alice", max_args=1),
    _spec("leaderboard", "leaderboard [campaign]", C, "the most active contributors lately, or a campaign's standings",
          "近期最活跃的贡献者排行，或某个活动的排名", "/cobot leaderboard", "/cobot leaderboard spring-hackathon",
          max_args=1),
    _spec("campaign", "campaign list|show NAME", C, "the campaigns, or one campaign's state",
          "列出活动，或查看某个活动", "/cobot campaign list", "/cobot campaign show spring-hackathon", min_args=1,
          max_args=2),
    _spec("digest", "digest preview", M, "this week's digest so far", "预览本周社区周报", "/cobot digest preview",
          min_args=1, max_args=1),
    _spec("award", "award BADGE user", M, "award a badge", "授予徽章", "/cobot award docs-hero github:alice",
          min_args=2, max_args=2),
    _spec("help", "help", C, "list the sub-commands", "列出所有子命令", "/cobot help", max_args=0),
)
SLACK_COMMANDS: dict[str, CommandSpec] = {spec.name: spec for spec in SLACK_LIST}


def required_role(spec: CommandSpec, overrides: dict[str, str]) -> Role:
    """The role a comment command needs: its default, or what `[commands.require]` says."""
    named = overrides.get(spec.name)
    return Role.named(named) if named else spec.role


def arity_problem(spec: CommandSpec, count: int, shown_name: str, language: str) -> Markdown | None:
    """What is wrong with giving `count` arguments (None: nothing), worded for the reply."""
    if spec.max_args == 0 and count:
        return message("commands/problem_no_args", language, name=shown_name)
    if count < spec.min_args:
        return message("commands/problem_too_few", language, name=shown_name, count=spec.min_args)
    if spec.max_args is not None and count > spec.max_args:
        return message("commands/problem_too_many", language, name=shown_name, count=spec.max_args)
    return None


def markdown_table(specs: tuple[CommandSpec, ...], language: str = "en", overrides: dict[str, str] | None = None
                   ) -> str:
    """The command table of the README and of `/help` (`overrides`: `[commands.require]`)."""
    head = {"en": ("command", "who may run it", "what it does", "example"),
            "zh": ("命令", "谁可以使用", "作用", "示例")}[language if language == "zh" else "en"]
    lines = ["| " + " | ".join(head) + " |", "| --- | --- | --- | --- |"]
    for spec in specs:
        example = spec.examples[0] if spec.examples else spec.usage
        who = spec.who(language, required_role(spec, overrides or {}))
        usage, example = (text.replace("|", "\\|") for text in (spec.usage, example))  # a pipe ends a cell
        lines.append(f"| `{usage}` | {who} | {spec.summary[language]} | `{example}` |")
    return "\n".join(lines)


def readme_tables() -> str:
    return (f"Comment commands (on issues and pull requests, GitHub and Gitee):\n\n{markdown_table(COMMAND_LIST)}\n\n"
            f"Slack (`/cobot SUB-COMMAND`):\n\n{markdown_table(SLACK_LIST)}")


if __name__ == "__main__":
    print(readme_tables())
