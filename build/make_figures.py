"""Draw the chapter's structure figures as SVG files under img/.

    python build/make_figures.py   # (re)writes img/*.svg; `make figures`

The figures are plain SVG (boxes, circles, arrows and text), so they need
no drawing program and stay small and sharp. Labels are written 'H|t-1'
(subscript after '|') and 'H^(1)|t' (superscript after '^').
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMG_DIR = os.path.join(ROOT, 'img')

INPUT, HIDDEN, OUTPUT, GATE, OP = ('#fde9c9', '#cfe3f7', '#d9f0d3',
                                   '#f6d5e5', '#ffffff')
PARAM = '#dddddd'
FONT = 'font-family="Helvetica, Arial, sans-serif"'


class Figure:
    def __init__(self, width, height):
        self.width, self.height = width, height
        self.items = []

    def text(self, x, y, label, size=15, anchor='middle', italic=True):
        main, _, sub = label.partition('|')
        main, _, sup = main.partition('^')
        style = ' font-style="italic"' if italic else ''
        small = f'font-size="{size * 0.7:.0f}"'
        tspan = f'<tspan dy="-6" {small}>{sup}</tspan>' if sup else ''
        if sub:
            # A subscript under a superscript starts where the latter began.
            back = f' dx="-{0.42 * len(sup) * size * 0.7:.1f}"' if sup else ''
            tspan += (f'<tspan dy="{10 if sup else 4}"{back} {small}>'
                      f'{sub}</tspan>')
        self.items.append(
            f'<text x="{x}" y="{y + size * 0.35:.1f}" font-size="{size}" '
            f'text-anchor="{anchor}"{style} {FONT}>{main}{tspan}</text>')

    def box(self, x, y, w, h, label, fill, size=15, italic=True):
        """A rounded box centred at (x, y)."""
        self.items.append(
            f'<rect x="{x - w / 2}" y="{y - h / 2}" width="{w}" height="{h}" '
            f'rx="6" fill="{fill}" stroke="#333" stroke-width="1.3"/>')
        self.text(x, y, label, size, italic=italic)

    def op(self, x, y, symbol, r=11):
        """A circle with an elementwise operation in it, centred at (x, y)."""
        self.items.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="{OP}" '
                          f'stroke="#333" stroke-width="1.3"/>')
        self.text(x, y - 1, symbol, 14, italic=False)

    def arrow(self, *points, head=True, dashed=False):
        """A polyline through (x, y) points, with an arrow head at the end."""
        path = ' '.join(f'{x},{y}' for x, y in points)
        marker = ' marker-end="url(#head)"' if head else ''
        dash = ' stroke-dasharray="5,4"' if dashed else ''
        self.items.append(f'<polyline points="{path}" fill="none" '
                          f'stroke="#333" stroke-width="1.3"{dash}{marker}/>')

    def svg(self):
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} '
            f'{self.height}">\n<defs><marker id="head" markerWidth="8" '
            f'markerHeight="8" refX="7" refY="4" orient="auto" '
            f'markerUnits="userSpaceOnUse"><path d="M0,0 L8,4 L0,8 z" '
            f'fill="#333"/></marker></defs>\n'
            f'<rect width="100%" height="100%" fill="white"/>\n'
            + '\n'.join(self.items) + '\n</svg>\n')


def unrolled_rnn():
    f = Figure(520, 250)
    xs = [130, 260, 390]
    for x, t in zip(xs, ['t-1', 't', 't+1']):
        f.box(x, 215, 60, 34, 'X|' + t, INPUT)
        f.box(x, 125, 80, 44, 'H|' + t, HIDDEN)
        f.box(x, 35, 60, 34, 'O|' + t, OUTPUT)
        f.arrow((x, 198), (x, 148))
        f.arrow((x, 103), (x, 53))
    f.arrow((20, 125), (89, 125), dashed=True)
    for a, b in zip(xs, xs[1:]):
        f.arrow((a + 40, 125), (b - 41, 125))
    f.arrow((431, 125), (500, 125), dashed=True)
    f.text(195, 112, 'W|hh', 12)
    f.text(325, 112, 'W|hh', 12)
    return f


def rnn_graph():
    """The computational graph of an RNN unrolled over three steps."""
    f = Figure(720, 410)
    f.box(60, 280, 60, 38, 'h|0', HIDDEN)
    f.box(420, 30, 44, 30, 'L', OP)
    for c, t in zip([240, 420, 600], '123'):
        f.box(c, 380, 54, 32, 'x|' + t, INPUT)
        f.box(c, 280, 60, 38, 'h|' + t, HIDDEN)
        f.box(c, 190, 54, 34, 'o|' + t, OUTPUT)
        f.box(c, 105, 44, 30, '\u2113|' + t, OP)
        f.box(c + 75, 105, 44, 30, 'y|' + t, INPUT)
        f.arrow((c, 364), (c, 299))
        f.arrow((c - 150, 280), (c - 31, 280))
        f.arrow((c, 261), (c, 207))
        f.arrow((c, 173), (c, 120))
        f.arrow((c + 53, 105), (c + 22, 105))
        # The same three parameters feed every step (shaded boxes).
        f.box(c - 60, 340, 44, 28, 'W|xh', PARAM, 14)
        f.arrow((c - 38, 332), (c - 20, 299))
        f.box(c - 90, 240, 44, 28, 'W|hh', PARAM, 14)
        f.arrow((c - 68, 248), (c - 31, 266))
        f.box(c - 75, 190, 44, 28, 'W|hq', PARAM, 14)
        f.arrow((c - 53, 190), (c - 28, 190))
        # The loss L averages the losses of all steps.
        f.arrow((c, 90), (420 + (c - 420) * 0.1, 46))
    return f


def gru_cell():
    f = Figure(560, 330)
    top, bottom = 60, 290
    # H_{t-1} enters on the left, H_t leaves on the right.
    f.text(28, top, 'H|t-1')
    f.text(532, top, 'H|t')
    f.box(150, bottom, 60, 34, 'X|t', INPUT)
    f.arrow((55, top), (355, top))           # H_{t-1} along the top
    f.op(370, top, '\u2299')                   # Z * H_{t-1}
    f.op(460, top, '+')
    f.arrow((381, top), (448, top))
    f.arrow((471, top), (505, top))
    # Gates: reset, update and the candidate state.
    gates = [(150, 'R|t', '\u03c3'), (250, 'Z|t', '\u03c3'),
             (370, '\u0048\u0303|t', 'tanh')]
    for x, name, act in gates:
        f.box(x, 190, 62, 36, act, GATE, 14, italic=False)
        f.text(x + 45, 170, name, 13)
    # Both gates read X_t and H_{t-1} (the bus on the left).
    f.arrow((150, 273), (150, 240), (100, 240), head=False)
    f.arrow((80, top), (80, 240), (100, 240), head=False)
    for x in (150, 250):
        f.arrow((100, 240), (x - 20, 240), (x - 20, 208))
    # The candidate reads X_t alone from below and, from above, the
    # reset state R_t * H_{t-1}, never H_{t-1} itself.
    f.arrow((180, bottom), (370, bottom), (370, 208))
    # The reset gate scales H_{t-1} before the candidate sees it.
    f.arrow((150, 172), (150, 130), (288, 130))
    f.arrow((300, top), (300, 119))
    f.op(300, 130, '\u2299')
    f.arrow((311, 130), (370, 130), (370, 172))
    # The update gate mixes H_{t-1} and the candidate.
    f.arrow((250, 172), (250, 100), (370, 100), (370, 71))
    f.arrow((262, 100), (430, 100), (430, 142))
    f.op(430, 154, '1-', 12)
    f.op(460, 215, '\u2299')
    f.arrow((401, 190), (430, 190), (449, 206))
    f.arrow((430, 166), (456, 204))
    f.arrow((460, 204), (460, 71))
    return f


def lstm_cell():
    f = Figure(600, 340)
    top, mid, bottom = 50, 120, 300
    f.text(28, top, 'C|t-1')
    f.text(570, top, 'C|t')
    f.text(28, mid, 'H|t-1')
    f.text(570, mid + 150, 'H|t')
    f.box(120, bottom, 60, 34, 'X|t', INPUT)
    # The memory cell runs along the top: forget, then add.
    f.arrow((55, top), (229, top))
    f.op(240, top, '\u2299')
    f.arrow((251, top), (369, top))
    f.op(380, top, '+')
    f.arrow((391, top), (545, top))
    gates = [(240, 'F|t', '\u03c3'), (320, 'I|t', '\u03c3'),
             (400, 'C\u0303|t', 'tanh'), (480, 'O|t', '\u03c3')]
    for x, name, act in gates:
        f.box(x, 200, 58, 34, act, GATE, 14, italic=False)
        f.text(x + 40, 178, name, 13)
    # Every gate reads X_t and H_{t-1}.
    f.arrow((55, mid), (90, mid), (90, 250), head=False)
    f.arrow((120, 283), (120, 250), head=False)
    f.arrow((90, 250), (480, 250), head=False)
    for x, _, _ in gates:
        f.arrow((x, 250), (x, 218))
    # Forget gate scales the old memory; input gate scales the candidate.
    f.arrow((240, 183), (240, 61))
    f.op(360, 120, '\u2299')
    f.arrow((320, 183), (320, 120), (349, 120))
    f.arrow((400, 183), (400, 120), (371, 120))
    f.arrow((360, 109), (374, 60))
    # Output: H_t = O_t * tanh(C_t).
    f.arrow((510, top), (510, 85))
    f.box(510, 105, 50, 30, 'tanh', GATE, 13, italic=False)
    f.op(510, 160, '\u2299')
    f.arrow((510, 120), (510, 149))
    f.arrow((480, 183), (499, 167))
    f.arrow((521, 160), (545, 160), (545, 258))
    return f


def deep_rnn():
    f = Figure(520, 330)
    xs = [130, 260, 390]
    rows = [235, 145]
    for x, t in zip(xs, ['t-1', 't', 't+1']):
        f.box(x, 305, 56, 30, 'X|' + t, INPUT, 14)
        f.box(x, 235, 80, 38, f'H^(1)|{t}', HIDDEN, 14)
        f.box(x, 145, 80, 38, f'H^(2)|{t}', HIDDEN, 14)
        f.box(x, 55, 56, 30, 'O|' + t, OUTPUT, 14)
        f.arrow((x, 290), (x, 255))
        f.arrow((x, 216), (x, 165))
        f.arrow((x, 126), (x, 71))
    for y in rows:
        f.arrow((20, y), (89, y), dashed=True)
        for a, b in zip(xs, xs[1:]):
            f.arrow((a + 40, y), (b - 41, y))
        f.arrow((431, y), (500, y), dashed=True)
    f.text(470, 262, 'layer 1', 12, italic=False)
    f.text(470, 172, 'layer 2', 12, italic=False)
    return f


def bidirectional_rnn():
    f = Figure(540, 330)
    xs = [130, 260, 390]
    for x, t in zip(xs, ['t-1', 't', 't+1']):
        f.box(x, 305, 56, 30, 'X|' + t, INPUT, 14)
        f.box(x - 22, 215, 68, 34, f'\u2192H|{t}', HIDDEN, 13)
        f.box(x + 22, 150, 68, 34, f'\u2190H|{t}', HIDDEN, 13)
        f.box(x, 55, 56, 30, 'O|' + t, OUTPUT, 14)
        f.arrow((x - 22, 290), (x - 22, 233))
        f.arrow((x + 22, 290), (x + 22, 250), (x + 40, 250), (x + 40, 168))
        f.arrow((x - 22, 198), (x - 22, 100), (x - 5, 71))
        f.arrow((x + 22, 133), (x + 5, 71))
    f.arrow((20, 215), (63, 215), dashed=True)
    for a, b in zip(xs, xs[1:]):
        f.arrow((a + 12, 215), (b - 57, 215))
        f.arrow((b - 12, 150), (a + 57, 150))
    f.arrow((412, 215), (500, 215), dashed=True)
    f.arrow((500, 150), (447, 150), dashed=True)
    f.arrow((117, 150), (30, 150), dashed=True)
    f.text(490, 232, 'forward', 12, italic=False)
    f.text(490, 170, 'backward', 12, italic=False)
    return f


FIGURES = {'rnn.svg': unrolled_rnn, 'rnn-bptt.svg': rnn_graph,
           'gru.svg': gru_cell,
           'lstm.svg': lstm_cell, 'deep-rnn.svg': deep_rnn,
           'bi-rnn.svg': bidirectional_rnn}


def main():
    os.makedirs(IMG_DIR, exist_ok=True)
    for name, draw in FIGURES.items():
        with open(os.path.join(IMG_DIR, name), 'w') as f:
            f.write(draw().svg())
        print(f'make_figures: wrote img/{name}')


if __name__ == '__main__':
    main()
