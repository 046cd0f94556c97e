"""The health screen: per mailbox, is it connected, when did it last hear from the server,
what went wrong and how to fix it, and how its outreach is doing this week."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from app.config import GeneralConfig
from app.store import Store
from app.store.rows import AccountRow
from app.store.stats import bounce_warnings
from app.store.triage import OpProblems
from app.ui.messages import RefreshOnStoreChange
from app.ui.status import FAILING_STATES, LIVE_STATES, HealthSummary, StatusBar
from app.ui.text import ago, bar, day_start, line, mailbox_label, percent, week_start
from app.ui.typed_app import replydesk

STATS_MAX_AGE = 5.0
"""Seconds the per-day and per-week figures are reused: they scan a week of mail, while the
connection states beside them change by the second."""

COLUMNS = ("Mailbox", "State", "Last push", "Today", "Sent 7d", "Bounce 7d", "Complaints", "Reply 7d", "Sync",
           "Last error")


def _state_style(state: str) -> str:
    if state in LIVE_STATES:
        return "bold"
    if state in FAILING_STATES:
        return "bold reverse"
    return ""


def seconds(value: float) -> str:
    if value < 10:
        return f"{value:.1f} s"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.0f} min"


def arrival(latency: float, via: str | None) -> str:
    """How late the newest message arrived here after the server had it, and how it was found."""
    late = seconds(latency)
    return late if via == "push" else f"polled {late}"


def push_summary(acc: AccountRow, now: float) -> str:
    """Whether the server pushes new mail to this mailbox, and the delay it has in practice."""
    idle = "IDLE" in (acc.get("capabilities") or "").split()
    if acc["last_push"]:
        pushes = f"the server pushes (last push {ago(acc['last_push'], now)})"
    elif idle:
        pushes = "the server offers IDLE but has pushed nothing yet (replydesk doctor tests it)"
    else:
        pushes = "the server has no IDLE: new mail is found by polling"
    if (latency := acc["arrival_latency"]) is None:
        return pushes
    how = "a push" if acc["arrival_via"] == "push" else "a poll"
    return f"{pushes}; the newest message was here {seconds(latency)} after it arrived, found by {how}"


class HealthScreen(RefreshOnStoreChange, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("j", "cursor('down')", "Down", show=False, id="cursor_down"),
        Binding("k", "cursor('up')", "Up", show=False, id="cursor_up"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="health-title")
        yield DataTable(id="health-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="health-store")
        yield Static(id="health-detail")
        yield Static(id="health-targets")
        yield Static(id="health-team")
        yield StatusBar(id="status")
        yield Footer(compact=True)

    def __init__(self) -> None:
        super().__init__()
        self._row_keys: list[str] = []
        self._row_cells: list[list[Text]] = []
        self._stats: dict[str, dict[str, int]] = {}
        self._stats_at: float | None = None
        self._not_done: dict[str, OpProblems] = {}

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self.reload()
        table.focus()

    def reload(self) -> None:
        store = replydesk(self).store
        now = replydesk(self).clock()
        accounts = store.accounts()
        if self._stats_at is None or abs(now - self._stats_at) >= STATS_MAX_AGE:
            self._stats = store.account_stats(day_start(now, replydesk(self).tz), week_start(now))
            self._stats_at = now
        stats = self._stats
        self._accounts = {a["id"]: a for a in accounts}
        self._not_done = store.op_problems()
        table = self.query_one(DataTable)
        rows = [(acc["id"], self._cells(acc, stats.get(acc["id"], {}), now)) for acc in accounts]
        if [key for key, _ in rows] == self._row_keys:
            # the same mailboxes: change only the cells that changed (a first sync of hundreds of
            # mailboxes refreshes this screen several times a second)
            for (key, cells), old in zip(rows, self._row_cells):
                for column, cell, was in zip(COLUMNS, cells, old):
                    if cell != was:
                        table.update_cell(key, column, cell)
        else:
            keep = table.cursor_row
            table.clear()
            for key, cells in rows:
                table.add_row(*cells, key=key)
            if rows:
                table.move_cursor(row=min(keep, len(rows) - 1), animate=False)
        self._row_keys = [key for key, _ in rows]
        self._row_cells = [cells for _, cells in rows]
        self._show_title(accounts)
        self._show_detail()
        self._show_targets(store)
        self._show_team(store, now)
        self.query_one(StatusBar).show(replydesk(self).health_summary, replydesk(self).engine_note)

    def _show_team(self, store: Store, now: float) -> None:
        """Once there is a team: what each person did this week, and the median time from a
        prospect's message to their reply."""
        widget = self.query_one("#health-team", Static)
        widget.display = bool(replydesk(self).show_user)
        if not widget.display:
            return
        text = Text()
        text.append("Team this week", style="bold")
        people = store.activity_by_user(week_start(now))
        if not people:
            text.append("\n  nothing done yet")
        for person in people:
            done = ", ".join(f"{n} {action}" for action, n in sorted(person.counts.items()))
            text.append(f"\n  {line(person.user)}: {done}")
            if person.median_answer is not None:
                text.append(f"; median answer {seconds(person.median_answer)} after the prospect wrote")
        widget.update(text)

    def _show_targets(self, store: Store) -> None:
        """The sending platforms and webhooks: what waits, what was given up, and the receiver's
        words (``replydesk sequencers retry`` tries those again)."""
        config = replydesk(self).config
        targets = ([f"sequencer:{s.key}" for s in config.sequencers] + [f"webhook:{w.key}" for w in config.webhooks]
                   if config is not None else [])
        widget = self.query_one("#health-targets", Static)
        widget.display = bool(targets)
        if not targets:
            return
        health = store.delivery_health()
        text = Text()
        for target in targets:
            h = health.get(target)
            text.append(f"{line(target)}: ", style="bold")
            if h is None or not (h.pending or h.dead):
                text.append(f"up to date ({h.done if h else 0} delivered)\n")
                continue
            if h.dead:
                text.append(f"{h.dead} given up", style="bold reverse")
                text.append(" (replydesk sequencers retry) ")
            if h.pending:
                text.append(f"{h.pending} waiting ")
            if h.last_error:
                text.append(f"· {line(h.last_error)}")
            text.append("\n")
        widget.update(text)

    def _cells(self, acc: AccountRow, st: dict[str, int], now: float) -> list[Text]:
        state = acc["state"] or "new"
        sent = st.get("sent_7d", 0)
        done, total = acc["sync_done"] or 0, acc["sync_total"] or 0
        # the watcher zeroes the progress once a sync is over: then the column says when it ended
        sync = f"{bar(done, total, 6)} {done:,}/{total:,}" if total > done else ago(acc["last_sync"], now)
        warn = any("bounce" in w for w in self._warnings(st))
        return [
            Text(line(acc["id"])),
            Text(state.replace("_", " "), style=_state_style(state)),
            Text(ago(acc["last_push"], now) + (f" · {arrival(latency, acc['arrival_via'])}"
                                               if (latency := acc["arrival_latency"]) is not None else "")),
            Text(f"{st.get('replies_today', 0):,}", justify="right"),
            Text(f"{sent:,}", justify="right"),
            Text(("! " if warn else "") + percent(st.get("bounces_7d", 0), sent), justify="right",
                 style="bold reverse" if warn else ""),
            Text(f"{st.get('complaints_7d', 0):,}", justify="right",
                 style="bold reverse" if st.get("complaints_7d", 0) else ""),
            Text(percent(st.get("replied_7d", 0), st.get("threads_7d", 0)), justify="right"),
            Text(sync),
            Text(line(acc["last_error"] or ""), no_wrap=True, overflow="ellipsis"),
        ]

    def _warnings(self, st: dict[str, int]) -> list[str]:
        config = replydesk(self).config
        threshold = config.general.bounce_rate_warning if config is not None else GeneralConfig().bounce_rate_warning
        return bounce_warnings(st, threshold)

    def _show_title(self, accounts: list[AccountRow]) -> None:
        summary = HealthSummary.of(accounts)
        title = Text(f"Mailbox health · {len(accounts)} mailboxes", style="bold", no_wrap=True)
        if summary.to_fetch:
            done, total = summary.fetched, summary.to_fetch
            title.append(f"   first sync: {bar(done, total, 12)} {done:,} of {total:,} messages", style="")
        self.query_one("#health-title", Static).update(title)
        problem = replydesk(self).store_problem
        failure = replydesk(self).engine_failure
        store = self.query_one("#health-store", Static)
        store.display = problem is not None or failure is not None
        lines = Text()
        if failure is not None:
            lines.append(f"Engine: failed to start: {failure[0]} — {failure[1]}", style="bold reverse")
        if problem is not None:
            lines.append(("\n" if failure is not None else "") + f"Database: {problem}", style="bold reverse")
        if store.display:
            store.update(lines)

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.query_one(DataTable)
        detail = Text()
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            acc = self._accounts.get(key or "")
            if acc is not None:
                now = replydesk(self).clock()
                detail.append(mailbox_label(acc["id"], acc["email"]), style="bold")
                detail.append(f"   {(acc['state'] or 'new').replace('_', ' ')} since {ago(acc['state_changed'], now)}"
                              f" · last sync {ago(acc['last_sync'], now)}")
                done, total = acc["sync_done"] or 0, acc["sync_total"] or 0
                if total > done:
                    detail.append(f" · fetched {done:,} of {total:,}")
                if acc["last_error"]:
                    detail.append("\nError: ", style="bold")
                    detail.append(line(acc["last_error"]))
                if acc["hint"]:
                    detail.append("\nHint: ", style="bold")
                    detail.append(line(acc["hint"]))
                detail.append("\nNew mail: ", style="bold")
                detail.append(push_summary(acc, now))
                for warning in self._warnings(self._stats.get(acc["id"], {})):
                    detail.append("\nWarning: ", style="bold")
                    detail.append(line(warning))
                ops = self._not_done.get(acc["id"])
                if ops is not None:
                    detail.append("\nNot on the server: ", style="bold")
                    detail.append(f"{ops.failed} failed, {ops.skipped} skipped this week; latest: {line(ops.latest)}")
                if acc["smtp_checked"] is not None:
                    detail.append("\nSMTP: ", style="bold")
                    detail.append(f"working (last submission {ago(acc['smtp_checked'], now)})" if acc["smtp_ok"]
                                  else f"failing ({ago(acc['smtp_checked'], now)}): {line(acc['smtp_error'])}")
        else:
            detail.append("No mailboxes yet: add one with `replydesk accounts add`.")
        self.query_one("#health-detail", Static).update(detail)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cursor(self, direction: str) -> None:
        table = self.query_one(DataTable)
        table.action_cursor_down() if direction == "down" else table.action_cursor_up()
