/**
 * A chain verdict printed inside another command's output (inspect): one heading naming the
 * product and policy, then verify's verdict lines (ui/verify-render.ts), so the same chain
 * reads the same in both commands.
 */
import type {ChainVerdict} from '../flows/chain-verdict.js';
import {out, printLine} from './output.js';
import {renderVerify} from './verify-render.js';

const PRODUCT: Record<ChainVerdict['target'], string> = {alb: 'ALB', nlb: 'NLB', apigw: 'API Gateway'};

export function renderChainVerdict(v: ChainVerdict): void {
  printLine(out.bold(`${PRODUCT[v.target]} verdict`) + out.dim(` (policy ${v.policy}; mtls-kit verify lists every check)`));
  renderVerify(v, false);
}
