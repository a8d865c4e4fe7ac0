// Which of our child processes opened a loopback TCP connection to one of our servers (Linux
// /proc). Both controller replicas must be given the same Druid URL (the URL is recorded in each
// resource's status, and another one would be refused as an endpoint change), so the Druid proxy
// tells them apart by the owner of the peer socket instead of by listener port.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Socket } from "node:net";

export interface TcpEntry {
  localPort: number;
  remotePort: number;
  inode: number;
}

/** The rows of /proc/net/tcp (or tcp6): ports and socket inode. */
export function parseProcNetTcp(text: string): TcpEntry[] {
  const rows: TcpEntry[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = fields[1]?.split(":")[1];
    const remote = fields[2]?.split(":")[1];
    const inode = Number(fields[9]);
    if (!local || !remote || !Number.isFinite(inode)) continue;
    rows.push({ localPort: parseInt(local, 16), remotePort: parseInt(remote, 16), inode });
  }
  return rows;
}

/** The inode of the client's end of a connection from clientPort to serverPort. */
export function clientSocketInode(rows: readonly TcpEntry[], clientPort: number, serverPort: number): number | undefined {
  return rows.find((r) => r.localPort === clientPort && r.remotePort === serverPort && r.inode !== 0)?.inode;
}

function ownsInode(pid: number, inode: number): boolean {
  const wanted = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === wanted) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/** The name of the candidate process that holds the other end of `socket`, if any. */
export function socketOwner(socket: Socket, candidates: () => ReadonlyArray<{ name: string; pid: number | undefined }>): string | undefined {
  const clientPort = socket.remotePort;
  const serverPort = socket.localPort;
  if (clientPort === undefined || serverPort === undefined) return undefined;
  let rows: TcpEntry[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      rows = rows.concat(parseProcNetTcp(readFileSync(table, "utf8")));
    } catch {
      // no such table
    }
  }
  const inode = clientSocketInode(rows, clientPort, serverPort);
  if (inode === undefined) return undefined;
  for (const { name, pid } of candidates()) if (pid !== undefined && ownsInode(pid, inode)) return name;
  return undefined;
}
