// The loss curve as inline SVG: mean loss per step, epoch boundaries as dashed lines.
// Drawn from scratch (no chart library to pin); scales with its container via viewBox.

const NS = "http://www.w3.org/2000/svg";
const PAD = { left: 56, right: 16, top: 22, bottom: 44 };
const LABEL_GAP = 64; // px between epoch labels: closer ones would overlap

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten. */
export function ticks(low, high, count = 5) {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const result = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
    result.push(Number(v.toPrecision(12)));
  }
  return result;
}

/** Steps after which a new epoch begins: [{step, epoch}] for each change of epoch. */
export function epochBoundaries(snapshots) {
  const result = [];
  for (let i = 1; i < snapshots.length; i++) {
    if (snapshots[i].epoch !== snapshots[i - 1].epoch) {
      result.push({ step: snapshots[i - 1].step, epoch: snapshots[i].epoch });
    }
  }
  return result;
}

function describe(snapshots, boundaries) {
  if (!snapshots.length) return "No steps yet: the curve appears once training starts.";
  const first = snapshots[0], last = snapshots[snapshots.length - 1];
  const fmt = (x) => x.toPrecision(3);
  let text = `${snapshots.length} steps: mean loss ${fmt(first.meanLoss)} at step ${first.step}, ` +
    `${fmt(last.meanLoss)} at step ${last.step}.`;
  if (boundaries.length) {
    text += ` Epochs begin after steps ${boundaries.map((b) => b.step).join(", ")}.`;
  }
  return text;
}

/**
 * The chart for `snapshots` ([{step, epoch, meanLoss}]); `totalSteps` (when known) sets the
 * x axis so the curve grows across it while training runs.
 */
export function lossChart(snapshots, totalSteps = 0, width = 640, title = "Mean loss per step") {
  // Drawn at the size it is shown (viewBox = pixels), so its text stays legible at any width.
  const W = Math.max(280, Math.round(width));
  const H = Math.round(Math.min(340, Math.max(220, W * 0.5)));
  const points = snapshots.filter((s) => Number.isFinite(s.meanLoss));
  const lastStep = points.length ? points[points.length - 1].step : 0;
  const xMax = Math.max(totalSteps || 0, lastStep, 2);
  const yMax = Math.max(...points.map((s) => s.meanLoss), 0) * 1.05 || 1;
  const x = (step) => PAD.left + ((step - 1) / (xMax - 1)) * (W - PAD.left - PAD.right);
  const y = (loss) => PAD.top + (1 - loss / yMax) * (H - PAD.top - PAD.bottom);
  const boundaries = epochBoundaries(points);

  const titleId = `chart-title-${Math.random().toString(36).slice(2)}`;
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "chart",
    role: "img",
    "aria-labelledby": `${titleId} ${titleId}-desc`,
    "data-points": points.length,
  });
  root.append(svg("title", { id: titleId }, title));
  root.append(svg("desc", { id: `${titleId}-desc` }, describe(points, boundaries)));

  const grid = svg("g", { class: "grid" });
  for (const v of ticks(0, yMax)) {
    grid.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    grid.append(svg("text", { x: PAD.left - 8, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  const xTicks = Math.max(2, Math.floor((W - PAD.left - PAD.right) / 80));
  for (const v of ticks(1, xMax, xTicks).filter((t) => Number.isInteger(t))) {
    grid.append(svg("text", { x: x(v), y: H - PAD.bottom + 18, "text-anchor": "middle" }, String(v)));
  }
  root.append(grid);
  root.append(svg("text", { class: "axis-label", x: (W + PAD.left) / 2, y: H - 6, "text-anchor": "middle" }, "step"));
  root.append(svg("text", {
    class: "axis-label", x: 14, y: H / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${H / 2})`,
  }, "mean loss"));

  const epochs = svg("g", { class: "epochs" });
  let labelledAt = -Infinity;
  for (const b of boundaries) {
    const bx = x(b.step + 0.5);
    epochs.append(svg("line", { x1: bx, x2: bx, y1: PAD.top, y2: H - PAD.bottom }));
    if (bx - labelledAt >= LABEL_GAP && bx + LABEL_GAP / 2 < W) {
      epochs.append(svg("text", { x: bx + 3, y: PAD.top - 8 }, `epoch ${b.epoch}`));
      labelledAt = bx;
    }
  }
  root.append(epochs);

  root.append(svg("line", {
    class: "axis", x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom,
  }));
  if (points.length) {
    const coords = points.map((s) => `${x(s.step).toFixed(1)},${y(s.meanLoss).toFixed(1)}`);
    root.append(svg("polyline", { class: "curve", points: coords.join(" ") }));
    const lastPoint = points[points.length - 1];
    root.append(svg("circle", { class: "last", cx: x(lastPoint.step), cy: y(lastPoint.meanLoss), r: 4 }));
  } else {
    root.append(svg("text", { class: "empty", x: W / 2, y: H / 2, "text-anchor": "middle" },
      "The curve appears after the first step."));
  }
  return root;
}
