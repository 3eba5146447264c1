"""The report's before/after chart: one bar per seven days (before the fix in grey-blue, after it
in green), a dashed line on the fix date and each window's mean as a horizontal line.

Drawn here as plain SVG rather than with pygal (metrics/charts.py): the fix-date marker and the
per-window means are not pygal shapes, and an SVG with presentation attributes only (no
<style>, no script) is the same in the page (no CSP nonce needed), in WeasyPrint's PDF and in a
mail client."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.translation import gettext as _

from madoguchi.prevention.services import Week

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 56
BEFORE, AFTER, AXIS, MEAN = "#64748b", "#059669", "#334155", "#b91c1c"


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10):
        magnitude = 10 ** (len(str(int(value))) - 1)
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(value)


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11, fill: str = AXIS) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-family="Noto Sans CJK JP, Noto Sans JP, sans-serif">{escape(text)}</text>')


def before_after_svg(weeks: list[Week], per_orders: bool) -> str:
    unit = _("件／1,000注文") if per_orders else _("件／週")
    values = [w.value(per_orders) for w in weeks]
    top = _nice_top(max([v for v in values if v is not None], default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(weeks))

    def y_of(value: float) -> float:
        return TOP + plot_h - value / top * plot_h

    # Strings in their own statements: xgettext does not read inside f-string expressions.
    title = _("対策前後の週ごとの発生")
    titled = _("%(title)s（%(unit)s）") % {"title": title, "unit": unit}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'aria-label="{escape(title)}" data-testid="before-after-chart">',
             f"<title>{escape(titled)}</title>"]
    for i in range(5):  # grid and y labels
        tick = top * i / 4
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e2e8f0" stroke-width="1"/>')
        parts.append(_text(LEFT - 6, y + 4, f"{tick:g}", anchor="end", size=10))
    parts.append(_text(LEFT, TOP - 10, unit, anchor="start", size=11))
    for i, (week, value) in enumerate(zip(weeks, values, strict=True)):
        x = LEFT + i * slot
        if value is not None:
            y = y_of(value)
            parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{TOP + plot_h - y:.1f}" '
                         f'fill="{AFTER if week.after else BEFORE}"><title>{escape(week.start.strftime("%m/%d"))}: '
                         f'{value:.1f}</title></rect>')
        parts.append(_text(x + slot / 2, TOP + plot_h + 16, week.start.strftime("%m/%d"), size=10))
    # Each window's mean over its weeks (its value is in the legend, clear of the bars).
    means: dict[bool, float] = {}
    for after in (False, True):
        chosen = [(i, v) for i, (w, v) in enumerate(zip(weeks, values, strict=True)) if w.after == after and v is not None]
        if not chosen:
            continue
        mean = means[after] = sum(v for _i, v in chosen) / len(chosen)
        x1, x2 = LEFT + chosen[0][0] * slot, LEFT + (chosen[-1][0] + 1) * slot
        parts.append(f'<line x1="{x1:.1f}" y1="{y_of(mean):.1f}" x2="{x2:.1f}" y2="{y_of(mean):.1f}" stroke="{MEAN}" '
                     f'stroke-width="2" data-mean="{mean:.2f}"/>')
    fix_index = next((i for i, w in enumerate(weeks) if w.after), len(weeks))
    fix_x = LEFT + fix_index * slot
    parts.append(f'<line x1="{fix_x:.1f}" y1="{TOP - 4}" x2="{fix_x:.1f}" y2="{TOP + plot_h}" stroke="{AXIS}" '
                 f'stroke-width="1.5" stroke-dasharray="5 4"/>')
    parts.append(_text(fix_x + 4, TOP + 10, _("対策日"), anchor="start", size=11))
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="{AXIS}" stroke-width="1"/>')
    legend_y = HEIGHT - 12
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 9}" width="12" height="10" fill="{BEFORE}"/>')
    parts.append(_text(LEFT + 16, legend_y, _("対策前"), anchor="start"))
    parts.append(f'<rect x="{LEFT + 90}" y="{legend_y - 9}" width="12" height="10" fill="{AFTER}"/>')
    parts.append(_text(LEFT + 106, legend_y, _("対策後"), anchor="start"))
    parts.append(f'<line x1="{LEFT + 180}" y1="{legend_y - 4}" x2="{LEFT + 200}" y2="{legend_y - 4}" stroke="{MEAN}" stroke-width="2"/>')
    shown = " / ".join(f"{label} {means[key]:.1f}" for key, label in ((False, _("対策前")), (True, _("対策後"))) if key in means)
    mean_label = _("期間の平均（%(values)s）") % {"values": shown} if shown else _("期間の平均")
    parts.append(_text(LEFT + 204, legend_y, mean_label, anchor="start"))
    parts.append("</svg>")
    return "".join(parts)
