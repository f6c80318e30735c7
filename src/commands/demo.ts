import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {usageError} from '../lib/errors.js';
import {DEMO_KEEP_PORTS, type DemoPorts, type DemoResult, runDemo} from '../flows/demo.js';
import {waitForStopSignal} from '../io/stop-signal.js';
import {renderDemo, renderKeptRunning} from '../ui/demo-render.js';

export type {DemoResult};

const DEFAULT_KEEP_DIR = './mtls-kit-demo';
const PORTS = `${DEMO_KEEP_PORTS.verify},${DEMO_KEEP_PORTS.passthrough},${DEMO_KEEP_PORTS.apigw}`;

export default class Demo extends BaseCommand {
  static override summary =
    'Walk through mTLS on ALB and API Gateway locally in a few seconds: verify and passthrough modes, a revoked certificate, an authorizer.';
  static override description =
    `On 127.0.0.1 only, creates a CA, a client certificate and a revoked one, starts an ALB verify listener, an ALB passthrough listener and an API Gateway listener (mtls-kit serve) with the built-in echo backend, and shows:
  verify mode   the load balancer checks the client's chain against the trust store and its CRLs, rejects a failing client in the TLS handshake, and sends the target the leaf in X-Amzn-Mtls-Clientcert-* headers
    Step 1   no client certificate: the connection is cut before any HTTP response, and the connection-log line
    Step 2   with the certificate: the headers the backend received, decoded
    Step 3   a certificate on the CRL: Failed:ClientCertCrlHit
  passthrough mode   the load balancer checks nothing and forwards the whole chain the client sent in X-Amzn-Mtls-Clientcert; the target checks it
  API Gateway 1-4   the certificate-propagation pattern: the truststore is checked in the handshake (no CRL), a Lambda authorizer the demo writes extracts the subject (x-client-cert-sub) and denies the revoked device (403)
The requests are made with Node's https client.

Without --keep everything runs in a temporary folder on free ports and is removed at the end. --keep [DIR] writes the files into DIR (default ${DEFAULT_KEEP_DIR}, new or empty), runs the listeners on fixed ports (--ports, default ${PORTS}), prints the curl command of each step, and leaves the listeners running until Ctrl-C so those commands work when copied; DIR stays.

--json: {dir, kept, listeners, steps: [{name, title, curl, expected, ok, httpStatus, clientError, connectionLog, verifyStatus, headers?, decoded?}], ok, serveCommand, apigwServeCommand, seconds}; with --keep it is printed as soon as the listeners are ready.

Exit codes: 0 every step behaved as ALB and API Gateway do; 2 bad --ports; 3 a step did not; 4 DIR not empty, or a port in use.`;

  static override examples = [
    '<%= config.bin %> demo',
    '<%= config.bin %> demo --keep',
    `<%= config.bin %> demo --keep ./demo --ports 18443,19443,18444`,
    '<%= config.bin %> demo --json',
  ];

  static override args = {
    dir: Args.string({description: `Folder for --keep (default ${DEFAULT_KEEP_DIR}); giving it implies --keep.`, required: false}),
  };

  static override flags = {
    keep: Flags.boolean({
      summary: `Keep the files in DIR (default ${DEFAULT_KEEP_DIR}) and the listeners running on fixed ports until Ctrl-C.`,
      default: false,
    }),
    ports: Flags.string({
      summary: `Ports of the verify, passthrough and API Gateway listeners (default with --keep: ${PORTS}; without: any free ones).`,
      helpValue: 'V,P,A',
    }),
  };

  async run(): Promise<DemoResult | undefined> {
    const {args, flags} = await this.parse(Demo);
    const keepDir = flags.keep || args.dir !== undefined ? (args.dir ?? DEFAULT_KEEP_DIR) : null;
    const ports = parsePorts(flags.ports, keepDir !== null);
    let held = false;
    const result = await runDemo({
      keepDir,
      ports,
      hold: async (r) => {
        held = true;
        if (!r.ok) this.resultExitCode = 3;
        if (this.jsonEnabled()) process.stdout.write(JSON.stringify(r) + '\n');
        else {
          renderDemo(r);
          renderKeptRunning(r);
        }
        await waitForStopSignal();
      },
    });
    // With --keep the result was printed while the listeners ran.
    if (held) return undefined;
    if (!result.ok) this.resultExitCode = 3;
    return this.emit(result, renderDemo);
  }
}

function parsePorts(value: string | undefined, keep: boolean): DemoPorts {
  if (value === undefined) return keep ? DEMO_KEEP_PORTS : {verify: 0, passthrough: 0, apigw: 0};
  const n = value.split(',').map((p) => Number(p.trim()));
  if (
    n.length !== 3 ||
    n.some((p) => !Number.isInteger(p) || p < 0 || p > 65535) ||
    new Set(n.filter((p) => p !== 0)).size !== n.filter((p) => p !== 0).length
  ) {
    throw usageError('BAD_PORTS', `--ports ${value} is not three different ports`, [`give the verify, passthrough and API Gateway ports: --ports ${PORTS}`]);
  }
  return {verify: n[0]!, passthrough: n[1]!, apigw: n[2]!};
}
