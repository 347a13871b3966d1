/**
 * L2-regularised logistic regression on standardised features, fitted by Newton's method (IRLS) with step
 * halving. Small and exact for the handful of features a model has (p ≲ 50): each iteration is O(n·p²).
 *
 * Objective (minimised): Σ log-loss + (lambda / 2)·‖β‖², the intercept unpenalised. Features with no variance get
 * a coefficient of 0 (there is no evidence about them).
 */
export interface LogisticOptions {
  /** L2 strength on the standardised coefficients (default 1, as in scikit-learn's C = 1). */
  lambda?: number | undefined;
  maxIterations?: number | undefined;
  tolerance?: number | undefined;
}

export interface LogisticFit {
  intercept: number;
  /** Coefficients on the standardised features (per standard deviation). */
  standardized: number[];
  /** Coefficients on the original features (per unit): standardized / sd, 0 where sd = 0. */
  coefficients: number[];
  means: number[];
  sds: number[];
  iterations: number;
  converged: boolean;
}

export function fitLogistic(
  rows: readonly ArrayLike<number>[],
  y: ArrayLike<boolean>,
  options: LogisticOptions = {},
): LogisticFit {
  const lambda = options.lambda ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;
  const n = rows.length;
  const p = n === 0 ? 0 : rows[0]!.length;
  const means = new Array<number>(p).fill(0);
  const sds = new Array<number>(p).fill(0);
  for (const row of rows) for (let j = 0; j < p; j++) means[j]! += row[j]! / n;
  for (const row of rows) for (let j = 0; j < p; j++) sds[j]! += (row[j]! - means[j]!) ** 2 / n;
  // Rounding leaves a constant column with a tiny spread: treat anything below 1e-9 of its scale as none.
  for (let j = 0; j < p; j++) {
    const sd = Math.sqrt(sds[j]!);
    sds[j] = sd > 1e-9 * (1 + Math.abs(means[j]!)) ? sd : 0;
  }
  const active = [...Array(p).keys()].filter((j) => sds[j]! > 0);
  const q = active.length + 1; // intercept first
  const X = rows.map((row) => {
    const x = new Float64Array(q);
    x[0] = 1;
    active.forEach((j, k) => {
      x[k + 1] = (row[j]! - means[j]!) / sds[j]!;
    });
    return x;
  });
  const labels = Float64Array.from({ length: n }, (_, i) => (y[i] ? 1 : 0));

  const objective = (beta: Float64Array): number => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const eta = dot(X[i]!, beta);
      // log(1 + e^eta) − y·eta, computed without overflow.
      total += (eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta))) - labels[i]! * eta;
    }
    for (let k = 1; k < q; k++) total += (lambda / 2) * beta[k]! ** 2;
    return total;
  };

  let beta = new Float64Array(q);
  let current = objective(beta);
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    const gradient = new Float64Array(q);
    const hessian = Array.from({ length: q }, () => new Float64Array(q));
    for (let i = 0; i < n; i++) {
      const x = X[i]!;
      const mu = sigmoid(dot(x, beta));
      const w = Math.max(mu * (1 - mu), 1e-12);
      const r = mu - labels[i]!;
      for (let a = 0; a < q; a++) {
        gradient[a]! += r * x[a]!;
        const wa = w * x[a]!;
        const row = hessian[a]!;
        for (let b = 0; b <= a; b++) row[b]! += wa * x[b]!;
      }
    }
    for (let a = 0; a < q; a++) for (let b = 0; b < a; b++) hessian[b]![a] = hessian[a]![b]!;
    for (let k = 1; k < q; k++) {
      gradient[k]! += lambda * beta[k]!;
      hessian[k]![k]! += lambda;
    }
    const step = solveSymmetric(hessian, gradient);
    let scale = 1;
    let next = beta;
    let value = current;
    for (let halvings = 0; halvings < 30; halvings++) {
      next = beta.map((b, k) => b - scale * step[k]!);
      value = objective(next);
      if (value <= current + 1e-12) break;
      scale /= 2;
    }
    const change = Math.max(...step.map((s) => Math.abs(s * scale)));
    beta = next;
    const improvement = current - value;
    current = value;
    if (change < tolerance || improvement < tolerance * Math.max(1, Math.abs(current))) {
      converged = true;
      iterations++;
      break;
    }
  }
  const standardized = new Array<number>(p).fill(0);
  const coefficients = new Array<number>(p).fill(0);
  active.forEach((j, k) => {
    standardized[j] = beta[k + 1]!;
    coefficients[j] = beta[k + 1]! / sds[j]!;
  });
  const intercept = beta[0]! - active.reduce((sum, j) => sum + coefficients[j]! * means[j]!, 0);
  return { intercept, standardized, coefficients, means, sds, iterations, converged };
}

/** The fitted linear predictor (log-odds of a good outcome) for one row of original features. */
export function linearPredictor(fit: LogisticFit, row: ArrayLike<number>): number {
  let eta = fit.intercept;
  for (let j = 0; j < fit.coefficients.length; j++) eta += fit.coefficients[j]! * row[j]!;
  return eta;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

/** Solve H·x = g for a symmetric positive-definite H by Cholesky decomposition. */
export function solveSymmetric(h: Float64Array[], g: Float64Array): Float64Array {
  const q = g.length;
  const L = Array.from({ length: q }, () => new Float64Array(q));
  for (let i = 0; i < q; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = h[i]![j]!;
      for (let k = 0; k < j; k++) sum -= L[i]![k]! * L[j]![k]!;
      if (i === j) L[i]![i] = Math.sqrt(Math.max(sum, 1e-12));
      else L[i]![j] = sum / L[j]![j]!;
    }
  }
  const z = new Float64Array(q);
  for (let i = 0; i < q; i++) {
    let sum = g[i]!;
    for (let k = 0; k < i; k++) sum -= L[i]![k]! * z[k]!;
    z[i] = sum / L[i]![i]!;
  }
  const x = new Float64Array(q);
  for (let i = q - 1; i >= 0; i--) {
    let sum = z[i]!;
    for (let k = i + 1; k < q; k++) sum -= L[k]![i]! * x[k]!;
    x[i] = sum / L[i]![i]!;
  }
  return x;
}
