"""The running app with its type, for screens, widgets and their mixins: ``replydesk(self).store``
(as Posting's ``cast("Posting", self.app)``) instead of silencing the type checker at every use."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from app.ui.app import ReplydeskApp


def replydesk(node: object) -> ReplydeskApp:
    """``node.app``, typed; ``node`` is a widget or screen (a mixin passes its ``self``)."""
    assert isinstance(node, DOMNode)
    return cast("ReplydeskApp", node.app)
