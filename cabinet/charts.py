"""Small charts drawn on the server as SVG (issue #10, K5: the statistics page), with
no script and nothing fetched from elsewhere.

``bar_chart`` and ``line_chart`` take one value per point (a day) with its label
(the day as the page writes it), and return inline SVG as Markup:

- ``role="img"``, named by its ``aria-label`` (the title, also its ``<title>``)
  and described by its ``<desc>`` (``aria-describedby``: the period, the total,
  where the figures are), so that a screen reader announces the chart as one
  image; the page puts the same figures in a data table next to it, which is what
  a screen reader user reads;
- one ``<rect class="bar">`` (or ``<circle class="point">``) per point, with
  ``data-label`` and ``data-value`` and a ``<title>`` (the tooltip "label: value");
- a horizontal axis naming the first, middle and last points, a vertical one
  with 0 and the largest value, light grid lines at the quarters.

The output is well-formed XML in the SVG namespace (every text escaped), sized by
its ``viewBox`` so that it shrinks with the page.
"""
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 720, 220
#: room for the axes' labels: left, right, top, bottom
MARGIN = (56, 12, 12, 34)


def _number(value):
    """A coordinate with at most two decimals."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text(value):
    return escape(str(value))


def _attr(value):
    return quoteattr(str(value))


class _Frame:
    """The plotting area and the scale of a chart."""

    def __init__(self, values, width, height):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = MARGIN
        self.plot_width = width - self.left - self.right
        self.plot_height = height - self.top - self.bottom
        self.count = len(values)
        self.maximum = max([Decimal(str(v)) for v in values] + [Decimal(0)])
        self.scale_top = self.maximum if self.maximum > 0 else Decimal(1)

    def y(self, value):
        share = Decimal(str(value)) / self.scale_top
        return self.top + self.plot_height - float(share) * self.plot_height

    def slot(self):
        return self.plot_width / max(self.count, 1)

    def x_center(self, index):
        return self.left + self.slot() * (index + 0.5)


def _open(chart_id, title, desc, width, height, kind):
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return [
        f'<svg xmlns="{SVG_NS}" class="chart chart-{kind}" id={_attr(chart_id)} '
        f'role="img" aria-label={_attr(title)} '
        f'aria-describedby="{desc_id}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{title_id}">{_text(title)}</title>',
        f'<desc id="{desc_id}">{_text(desc)}</desc>',
    ]


def _axes(frame, labels, value_labels_of_max):
    """Grid lines, the vertical axis' 0 and maximum, the horizontal axis' labels."""
    out = ['<g class="axes" aria-hidden="true">']
    for quarter in (1, 2, 3, 4):
        y = frame.top + frame.plot_height * (4 - quarter) / 4
        out.append(f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" '
                   f'y1="{_number(y)}" y2="{_number(y)}" stroke="#d9dee3" '
                   f'stroke-width="1"/>')
    base = frame.top + frame.plot_height
    out.append(f'<line class="axis" x1="{frame.left}" x2="{frame.width - frame.right}" '
               f'y1="{_number(base)}" y2="{_number(base)}" stroke="#5a6470" '
               f'stroke-width="1"/>')
    out.append(f'<text class="y-label" x="{frame.left - 6}" y="{_number(base)}" '
               f'text-anchor="end" dominant-baseline="middle" font-size="11">0</text>')
    if frame.maximum > 0:
        out.append(f'<text class="y-label" x="{frame.left - 6}" y="{frame.top}" '
                   f'text-anchor="end" dominant-baseline="middle" font-size="11">'
                   f'{_text(value_labels_of_max)}</text>')
    if labels:
        shown = sorted({0, (len(labels) - 1) // 2, len(labels) - 1})
        anchors = {0: "start", len(labels) - 1: "end"}
        for index in shown:
            x = frame.x_center(index)
            if index == 0:
                x = frame.left
            elif index == len(labels) - 1:
                x = frame.width - frame.right
            anchor = anchors.get(index, "middle")
            out.append(f'<text class="x-label" x="{_number(x)}" y="{_number(base + 18)}" '
                       f'text-anchor="{anchor}" font-size="11">{_text(labels[index])}</text>')
    out.append("</g>")
    return out


def _check(values, labels, value_labels):
    if len(labels) != len(values):
        raise ValueError("one label per value")
    if value_labels is None:
        value_labels = [str(v) for v in values]
    if len(value_labels) != len(values):
        raise ValueError("one value label per value")
    return value_labels


def _max_label(values, value_labels):
    if not values:
        return "0"
    index = max(range(len(values)), key=lambda i: Decimal(str(values[i])))
    return value_labels[index] if Decimal(str(values[index])) > 0 else "0"


def bar_chart(values, labels, *, title, desc, chart_id, value_labels=None,
              width=WIDTH, height=HEIGHT):
    """A bar per value (a day), as inline SVG Markup."""
    value_labels = _check(values, labels, value_labels)
    frame = _Frame(values, width, height)
    out = _open(chart_id, title, desc, width, height, "bar")
    out += _axes(frame, labels, _max_label(values, value_labels))
    slot = frame.slot()
    bar_width = max(slot * 0.7, 0.5)
    base = frame.top + frame.plot_height
    out.append('<g class="bars" fill="#2f6f9f">')
    for index, (value, label, shown) in enumerate(zip(values, labels, value_labels)):
        y = frame.y(value)
        x = frame.left + slot * index + (slot - bar_width) / 2
        out.append(f'<rect class="bar" x="{_number(x)}" y="{_number(y)}" '
                   f'width="{_number(bar_width)}" height="{_number(base - y)}" '
                   f'data-label={_attr(label)} data-value={_attr(value)}>'
                   f'<title>{_text(label)} : {_text(shown)}</title></rect>')
    out.append("</g></svg>")
    return Markup("".join(out))


def line_chart(values, labels, *, title, desc, chart_id, value_labels=None,
               width=WIDTH, height=HEIGHT):
    """A line through a point per value (a day), as inline SVG Markup."""
    value_labels = _check(values, labels, value_labels)
    frame = _Frame(values, width, height)
    out = _open(chart_id, title, desc, width, height, "line")
    out += _axes(frame, labels, _max_label(values, value_labels))
    points = [(frame.x_center(i), frame.y(v)) for i, v in enumerate(values)]
    if points:
        path = " ".join(f"{_number(x)},{_number(y)}" for x, y in points)
        out.append(f'<polyline class="line" points="{path}" fill="none" '
                   f'stroke="#2f6f9f" stroke-width="2" stroke-linejoin="round"/>')
    radius = 3 if len(points) <= 120 else 1.5
    out.append('<g class="points" fill="#2f6f9f">')
    for (x, y), value, label, shown in zip(points, values, labels, value_labels):
        out.append(f'<circle class="point" cx="{_number(x)}" cy="{_number(y)}" '
                   f'r="{radius}" data-label={_attr(label)} data-value={_attr(value)}>'
                   f'<title>{_text(label)} : {_text(shown)}</title></circle>')
    out.append("</g></svg>")
    return Markup("".join(out))
