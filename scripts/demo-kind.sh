# Sourced by scripts/demo.sh where a Docker engine answers: the flow with real pods on kind. Expects demo.sh's
# variables and functions (root, demo, cache, cluster, target, say, run, kubectl, emulator, bind_and_explain).

say "Real pods: a kind cluster whose API server issues tokens for the emulator (scripts/kind-up.sh)"
if [ -z "${KIND_NODE_IMAGE:-}" ] && [ -f "$demo/docker-engine-ours" ]; then
  echo "building the kind node image offline (scripts/kind-node-image.sh; the first build takes ~15 minutes)"
  KIND_NODE_IMAGE=$(scripts/kind-node-image.sh)
  export KIND_NODE_IMAGE
fi
if ! docker image inspect public.ecr.aws/aws-cli/aws-cli:2.25.4 >/dev/null 2>&1; then
  if [ -f "$demo/docker-engine-ours" ]; then
    scripts/local-images.sh aws-cli >/dev/null
  else
    run docker pull public.ecr.aws/aws-cli/aws-cli:2.25.4
  fi
fi
command -v kind >/dev/null 2>&1 || PATH="$(dirname "$(scripts/kind-tool.sh)"):$PATH"
printf '\033[2m$ scripts/kind-up.sh %s\033[0m\n' "$cluster"
IRSA_EMULATOR_BIN="$target/irsa-emulator" IRSA_KIND_CONFIG_BIN="$target/irsa-kind-config" \
  IRSA_KIND_PORT="$port" scripts/kind-up.sh "$cluster" >"$demo/kind-env"
eval "$(cat "$demo/kind-env")"
cd "$demo"
bind_and_explain "$cluster" 1

say "3. The seed's pod, as its page gives it: the webhook mutates it, the kubelet projects its token"
run kind load docker-image --name "$cluster" public.ecr.aws/aws-cli/aws-cli:2.25.4
run kubectl apply -f pod.yaml
wait_for_log() { # POD TEXT
  local i
  for i in $(seq 1 90); do
    kubectl logs "$1" 2>/dev/null | grep -q "$2" && return 0
    sleep 2
  done
  echo "(pod $1 did not log '$2' in 3 minutes; kubectl describe pod $1 says why)" >&2
}
wait_for_log irsa-test Arn
run kubectl logs irsa-test

say "4. Why a binding fails: another service account's pod, pointed at the same role, is refused"
kubectl create serviceaccount intruder -n default >/dev/null
kubectl annotate serviceaccount intruder -n default "eks.amazonaws.com/role-arn=$role_arn" >/dev/null
sed -e 's/name: irsa-test/name: intruder/' -e 's/serviceAccountName: my-service-account/serviceAccountName: intruder/' \
  pod.yaml | kubectl apply -f - >/dev/null
wait_for_log intruder AccessDenied
run kubectl logs intruder
run emulator audit --endpoint-url "$AWS_ENDPOINT_URL" --ca-bundle "$AWS_CA_BUNDLE" | tail -2

say "Still running. To explore:"
cat <<EOF
  eval "\$(cat $demo/kind-env)"; export PATH=$demo/bin:$(dirname "$IRSA_KUBECTL"):\$PATH
  kubectl get pods -A; kubectl irsa list -A
  $target/irsa-emulator audit -f --endpoint-url $AWS_ENDPOINT_URL --ca-bundle $AWS_CA_BUNDLE
  scripts/demo.sh down                                           # stop and clean up
EOF
