"""The peer for the webhook benchmark: an equivalent keyword bot on WeRoBot, served by gunicorn.

It answers each text with the same checklist baishitong would send for the first handbook alias
found in the message (replies pre-rendered by webhook_bench into PEER_REPLIES, a JSON file), and
otherwise with a short default. Sessions are off: WeRoBot's fastest configuration, which makes
the comparison stricter for baishitong. Runs in its own virtualenv; not part of the package.
"""

import json
import os

import werobot

with open(os.environ["PEER_REPLIES"], encoding="utf-8") as handle:
    _TABLE = json.load(handle)
_ALIASES = sorted(_TABLE["aliases"].items(), key=lambda pair: len(pair[0]), reverse=True)

robot = werobot.WeRoBot(token=os.environ["WECHAT_TOKEN"], SESSION_STORAGE=False)


@robot.text
def answer(message):
    for alias, reply in _ALIASES:
        if alias in message.content:
            return reply
    return _TABLE["default"]


app = robot.wsgi
