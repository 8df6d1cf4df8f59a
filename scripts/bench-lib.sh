# Sourced by scripts/bench.sh and scripts/bench-plugin.sh: the helpers both need. The caller keeps a `pids`
# array and kills what is in it on exit.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_emulator DIR -> sets emu_pid, emu_url, emu_ca (HTTPS, fresh state)
start_emulator() {
  local dir=$1 port
  port=$(free_port)
  irsa-emulator serve --data-dir "$dir" --listen "127.0.0.1:$port" >"$dir.log" 2>&1 &
  emu_pid=$!; pids+=("$emu_pid")
  emu_url=https://127.0.0.1:$port emu_ca=$dir/ca.pem
  for _ in $(seq 1 200); do
    [ -f "$emu_ca" ] && curl -sf --cacert "$emu_ca" "$emu_url/healthz" >/dev/null && return
    sleep 0.05
  done
  echo "the emulator did not start: $(cat "$dir.log")" >&2; exit 1
}
