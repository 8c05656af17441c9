"""What a hostile issue title costs a notification: rendered for a channel and written in each chat tool's format.

    python bench/notify_render.py                        # this tree, five runs, the median
    python bench/notify_render.py --tree /path/to/another/checkout --runs 5
    python bench/notify_render.py --quick                # one run: a smoke check

For each title (a realistic one, and 64 KB of characters that open Markdown syntax without closing it), an
`event_notice` notification is routed (`route_notification`: the template rendered with the title escaped) and
written as each channel sends it: Slack blocks, a Feishu post and card, DingTalk and WeCom Markdown, an e-mail.
Prints the median milliseconds per title and channel, and whether the evil link or the @all mention survived into
what would be sent. `--tree` runs the same in another source tree (before/after). Nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

TITLES = {
    "realistic": "Fix the tokenizer on CJK input [docs](https://evil.example) <at id=all></at> (#42)",
    "[ x 64K": "[" * 64_000,
    "![[ x 21K": "![[" * 21_000,
    "**a x 21K": "**a" * 21_000,
    "[x]( x 16K": "[x](" * 16_000,
    "<at x 16K": "<at " * 16_000,
    "\\ x 64K": "\\" * 64_000,
}

MEASURE = r'''
import json, statistics, sys, time
from bot.config import settings_from_mapping
from bot.events import Action
from bot.notifiers.base import Notification
from bot.notifiers.routing import route_notification
from bot.notifiers.slack import slack_blocks
from bot.notifiers.feishu import post_message, card_message
from bot.notifiers.dingtalk import markdown_message as dingtalk
from bot.notifiers.wecom import markdown_message as wecom
from bot.notifiers.email import build_message
from bot.settings.notify import EmailChannel

titles, runs = json.loads(sys.stdin.read()), int(sys.argv[1])
settings = settings_from_mapping({"notify": {"channels": {"hook": {"kind": "webhook",
                                  "url": "https://hooks.example.org/x"}},
                                  "rules": [{"events": ["issue.opened"], "channels": ["hook"]}]}}, "bench", env={})
mail = EmailChannel(kind="email", host="mail.example.org", sender="a@example.org", recipients=["b@example.org"])
writers = {"slack": slack_blocks, "feishu post": lambda n: post_message(n, n.body),
           "feishu card": lambda n: card_message(n, n.body), "dingtalk": dingtalk, "wecom": wecom,
           "e-mail": lambda n: build_message(n, mail).as_string()}
results = {}
for name, title in titles.items():
    values = {"kind": "issue.opened", "actor": "eve", "repo": "acme/rocket", "platform_label": "GitHub",
              "number": "7", "title": title, "is_pr": False, "url": "https://github.com/acme/rocket/issues/7",
              "excerpt": "", "ref": "", "commits": 0}
    action = Action(kind="notify", key="k", topic="event", template="event_notice", values=tuple(values.items()),
                    event_kind="issue.opened", platform="github", repo="acme/rocket")
    timings = {"render": []}
    written = {}
    for _ in range(runs):
        start = time.perf_counter()
        [routed] = route_notification(action, settings.notify, "en")
        timings["render"].append(time.perf_counter() - start)
        notification = Notification(title=routed.title or "", body=routed.body or "", key="k",
                                    link=values["url"], language="en")
        for channel, write in writers.items():
            start = time.perf_counter()
            written[channel] = json.dumps(write(notification), ensure_ascii=False, default=str)
            timings.setdefault(channel, []).append(time.perf_counter() - start)
    live_link = {"slack": "<https://evil.example", "feishu post": '"href": "https://evil.example',
                 "e-mail": 'href=3D"https://evil.example'}
    live = {channel: live_link.get(channel, "](https://evil.example") in text or "<at id=all>" in text
            for channel, text in written.items()}
    results[name] = {"ms": {k: round(statistics.median(v) * 1000, 1) for k, v in timings.items()}, "live": live}
print(json.dumps(results))
'''


def measure(tree: Path, runs: int) -> dict[str, dict[str, dict[str, object]]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(runs)], input=json.dumps(TITLES), cwd=tree, env=env,
                          capture_output=True, text=True, check=True, timeout=3600)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="the source tree to measure")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run: a smoke check")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.runs = 1
    results = measure(arguments.tree.resolve(), arguments.runs)
    channels = list(next(iter(results.values()))["ms"])
    print(f"tree: {arguments.tree.resolve()}  (median of {arguments.runs} runs, milliseconds)")
    print(f"{'title':<14}" + "".join(f"{channel:>13}" for channel in channels) + "   live link/mention in")
    for name, result in results.items():
        ms, live = result["ms"], result["live"]
        shown = ", ".join(channel for channel, found in live.items() if found) or "none"
        print(f"{name:<14}" + "".join(f"{ms[channel]:>13}" for channel in channels) + f"   {shown}")


if __name__ == "__main__":
    main()
