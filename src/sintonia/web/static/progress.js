// How far a tuning job is: from the model's snapshots, its latest operation (totalSteps) and
// Sintonia's job view (queue position), all public API reads.

import { ApiError, get } from "./api.js";

/** The latest operation of a tuned model, or null. */
export async function latestOperation(id, options) {
  const body = await get(`tunedModels/${id}/operations?pageSize=100`, options);
  const operations = body.operations || [];
  return operations.length ? operations[operations.length - 1] : null;
}

/**
 * Sintonia's job view of a model ({state, queuePosition, ...}), or null where the server
 * has no such route (an older server answers 404) or the job is gone.
 */
export async function jobView(id, options) {
  try {
    return await get(`tunedModels/${id}/job`, options);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** {done, total, percent} from a model and its latest operation. */
export function stepProgress(model, operation) {
  const snapshots = (model.tuningTask && model.tuningTask.snapshots) || [];
  const done = snapshots.length ? snapshots[snapshots.length - 1].step : 0;
  const total = (operation && operation.metadata && operation.metadata.totalSteps) || 0;
  return { done, total, percent: total ? Math.min(100, (100 * done) / total) : 0 };
}

/**
 * What a job is doing, in words: "Queued — position 2", "Step 40 of 150 (27%)", or the
 * outcome of a finished operation ("Cancelled: ...", "Failed: ...").
 */
export function describeJob(model, operation, job) {
  const { done, total, percent } = stepProgress(model, operation);
  const queued = job && (job.state || job.status) === "QUEUED";
  if (model.state === "CREATING") {
    if (queued && job.queuePosition) return `Queued — position ${job.queuePosition}`;
    if (queued || (!done && !model.tuningTask?.startTime)) return "Waiting for a tuning worker";
    if (!done) return "Starting: loading the base model";
    return total ? `Step ${done} of ${total} (${Math.floor(percent)}%)` : `Step ${done}`;
  }
  const error = operation && operation.done && operation.error;
  if (error && error.code === 1) return `Cancelled. ${error.message}`;
  if (error) return `Failed: ${error.message}`;
  if (model.state === "ACTIVE") return "Ready: tuning finished";
  if (model.state === "FAILED") return "Failed";
  return "";
}

/** Whether the latest operation ended in a cancel. */
export function wasCancelled(operation) {
  return Boolean(operation && operation.done && operation.error && operation.error.code === 1);
}

/**
 * A rough duration for `steps` new steps on `baseModel`, from the caller's finished models
 * on that base: seconds per step between their first and last snapshots, plus the median
 * start-up (start to first step). Null when no such model exists yet.
 */
export function estimateDuration(models, baseModel, steps) {
  const seconds = (iso) => Date.parse(iso) / 1000;
  const runs = models.filter((m) => m.baseModel === baseModel && m.state === "ACTIVE" &&
    m.tuningTask && m.tuningTask.startTime && (m.tuningTask.snapshots || []).length >= 2);
  if (!runs.length) return null;
  let spanSeconds = 0, spanSteps = 0;
  const startups = [];
  for (const m of runs) {
    const snaps = m.tuningTask.snapshots;
    const first = snaps[0], last = snaps[snaps.length - 1];
    spanSeconds += seconds(last.computeTime) - seconds(first.computeTime);
    spanSteps += last.step - first.step;
    startups.push(seconds(first.computeTime) - seconds(m.tuningTask.startTime));
  }
  if (spanSteps <= 0) return null;
  const perStep = spanSeconds / spanSteps;
  startups.sort((a, b) => a - b);
  const startup = Math.max(0, startups[Math.floor(startups.length / 2)] - perStep);
  return { seconds: startup + perStep * steps, perStep, startup, runs: runs.length };
}
