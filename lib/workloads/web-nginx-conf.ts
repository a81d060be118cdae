/**
 * nginx.conf for the web workload, written for a read-only root filesystem and a non-root user:
 * every path nginx writes (pid file, temp files) is under /tmp, an emptyDir in the pod.
 */
export interface NginxConfOptions {
  /** The unprivileged port to listen on. */
  readonly port: number;
  /** Listen on IPv6 too, for dual-stack clusters. */
  readonly ipv6: boolean;
}

export function nginxConf(options: NginxConfOptions): string {
  const listen = [`listen ${options.port};`];
  if (options.ipv6) {
    listen.push(`listen [::]:${options.port};`);
  }
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
