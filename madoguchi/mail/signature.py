"""The signature under a mail to the customer: the mailbox's, with the agent's inside it.

As in Zendesk (a brand signature template with {{agent.signature}}) the mailbox's signature is
the frame the shop controls, and each agent's own signature goes where it says
{agent_signature}; a mailbox signature without that placeholder gets the agent's signature
above it (an agent's sign-off, then the shop's block). Placeholders: {agent_name} (the agent's
display name), {agent_signature}, {shop_name}. A mail the desk sends by itself (no agent) drops
the lines whose placeholders came out empty. Nothing else in braces is touched: the text is not
a format string, so a stray 「{」 or 「{agent.__class__}」 stays as written.

The signature is appended when the reply is written (cases.services.signed_body), so the
timeline shows the words exactly as the customer got them.
"""

from __future__ import annotations

import re
from typing import Any

from madoguchi.mail.models import Mailbox

PLACEHOLDER = re.compile(r"\{(agent_name|agent_signature|shop_name)\}")


def compose(mailbox: Mailbox | None, agent: Any) -> str:
    """The signature for a mail from `mailbox` written by `agent` (None: sent by the desk)."""
    frame = (mailbox.signature if mailbox is not None else "").strip("\n")
    own = (getattr(agent, "signature", "") or "").strip("\n") if agent is not None else ""
    if own.strip() and "{agent_signature}" not in frame:
        frame = f"{own}\n{frame}" if frame.strip() else own
        own = ""
    values = {
        "agent_name": str(agent) if agent is not None else "",
        "agent_signature": own,
        "shop_name": mailbox.shop_name if mailbox is not None else "",
    }
    lines = []
    for line in frame.split("\n"):
        filled = PLACEHOLDER.sub(lambda match: values[match.group(1)], line)
        if PLACEHOLDER.search(line) and not filled.strip():
            continue  # a line of placeholders with nothing to say (no agent, no shop name)
        lines.append(filled.rstrip())
    return "\n".join(lines).strip("\n")


def with_signature(body: str, signature: str) -> str:
    """The body with the signature under it, once: a reply that already ends with it (pasted by
    the agent, or a resend) is left as it is."""
    if not signature.strip() or body.rstrip().endswith(signature.strip()):
        return body
    return f"{body.rstrip()}\n\n{signature}"
