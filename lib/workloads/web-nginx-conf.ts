/**
 * nginx.conf for the web workload, written for a read-only root filesystem and a non-root user:
 * every path nginx writes (pid file, temp files) is under /tmp, an emptyDir in the pod.
 */
export interface NginxConfOptions {
  /** The unprivileged port to listen on. */
  readonly port: number;
  /** Listen on IPv6 too, for dual-stack clusters. */
  readonly ipv6: boolean;
  /**
   * Headers added to every response (`add_header ... always`), in the order given; names and values
   * are checked by the caller (`checkResponseHeaders`).
   * @default - none
   */
  readonly responseHeaders?: Readonly<Record<string, string>>;
}

/** A header name nginx and HTTP accept: an RFC 9110 token of letters, digits and hyphens. */
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
/** A header value safe inside nginx's double quotes: printable ASCII, no quote, backslash or `$` (a variable). */
const HEADER_VALUE = /^[\x20-\x7e]*$/;
const HEADER_VALUE_FORBIDDEN = /["\\$]/;

/** The problems of a set of response headers, as [field, value, allowed] for the caller's Problems. */
export function responseHeaderProblems(headers: Readonly<Record<string, string>>): [string, string, string][] {
  const problems: [string, string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      problems.push([`responseHeaders[${name}]`, name, 'a header name of letters, digits and hyphens']);
    }
    if (!HEADER_VALUE.test(value) || HEADER_VALUE_FORBIDDEN.test(value)) {
      problems.push([`responseHeaders[${name}]`, value, 'printable ASCII without ", \\ or $']);
    }
  }
  return problems;
}

export function nginxConf(options: NginxConfOptions): string {
  const listen = [`listen ${options.port};`];
  if (options.ipv6) {
    listen.push(`listen [::]:${options.port};`);
  }
  const headers = Object.entries(options.responseHeaders ?? {}).map(
    ([name, value]) => `add_header ${name} "${value}" always;`,
  );
  return [
    'worker_processes auto;',
    'pid /tmp/nginx.pid;',
    'error_log /dev/stderr warn;',
    '',
    'events {',
    '  worker_connections 1024;',
    '}',
    '',
    'http {',
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    '  access_log /dev/stdout;',
    '  server_tokens off;',
    '  client_body_temp_path /tmp/client_temp;',
    '  proxy_temp_path /tmp/proxy_temp;',
    '  fastcgi_temp_path /tmp/fastcgi_temp;',
    '  uwsgi_temp_path /tmp/uwsgi_temp;',
    '  scgi_temp_path /tmp/scgi_temp;',
    '',
    '  server {',
    ...listen.map((line) => `    ${line}`),
    '    root /usr/share/nginx/html;',
    ...headers.map((line) => `    ${line}`),
    '',
    '    # Liveness: answered by nginx itself, whatever the content.',
    '    location = /healthz {',
    '      access_log off;',
    '      default_type text/plain;',
    '      return 200 "ok\\n";',
    '    }',
    '',
    '    location / {',
    '      index index.html;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}
