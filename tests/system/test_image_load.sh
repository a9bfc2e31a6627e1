#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real images without a registry: berth image load of a `docker save` archive built here (two
# layers, a whiteout, an opaque directory, hard and symbolic links) and of an OCI image layout
# (gzip layers, optionally a gzip archive), the config honoured by run (Env, Entrypoint, Cmd,
# WorkingDir, User, ExposedPorts), image ls/rm through berthd (refused while a container uses the
# image), import of a rootfs tarball; hostile archives (../ names, absolute names, symlinks out
# of the root, hard links out, device nodes outside /dev, a layer past the size limit, a layer
# that is not what its config says) refused with nothing written outside and nothing kept.
export BERTH_IMAGE_MAX_BYTES=$((64 << 20))
. "$(dirname "$0")/lib.sh"
bt_setup
MK="python3 $TOP/tests/system/mkimage.py"
IMAGES=$BT_DIR/root/images
export MK IMAGES

# no_leftovers: the image store holds no temporary directory or upload.
no_leftovers() { ! ls -A "$IMAGES" | grep -q '^\.tmp-'; }
# images_now: the content directories of the store, sorted.
images_now() { ls "$IMAGES" | grep '^sha256-' | sort; }
export -f no_leftovers images_now bt_http

check "a docker save archive (two layers, whiteouts)" $MK docker "$BT_DIR/img.tar"
check "berth image load -i prints progress and the image loaded" bash -c "
	out=\$(berth image load -i $BT_DIR/img.tar); echo \"\$out\";
	echo \"\$out\" | grep -qE '^[0-9a-f]{12}: Loading layer .* done$' && echo \"\$out\" | tail -1 | grep -qx 'Loaded image: testimg:1'"
check "image ls shows it (Docker's columns)" bash -c "
	berth image ls | head -1 | grep -qx 'REPOSITORY *TAG *IMAGE ID *CREATED *SIZE' &&
	berth image ls | grep -qE '^testimg +1 +[0-9a-f]{12} +.* ago +[0-9.]+MB$'"
check "the config is honoured: Env, Entrypoint + Cmd, WorkingDir, User and its groups" bash -c "
	[ \"\$(berth run --rm testimg:1)\" = 'hi from bar in /work as 1000:1000 groups 1000 2000' ]"
check "the whiteout removed gone.txt" bash -c '[ "$(berth run --rm --entrypoint "" testimg:1 sh -c "ls / | grep -c gone")" = 0 ]'
check "the opaque directory lost the lower layer's files, kept its own" bash -c '
	[ "$(berth run --rm --entrypoint "" testimg:1 ls -R /opq | tr "\n" " ")" = "/opq: new " ]'
check "a file replaced by the upper layer, owner and mode from the archive" bash -c '
	[ "$(berth run --rm -u 0 --entrypoint "" testimg:1 sh -c "cat /keep.txt; stat -c %u:%g:%a /keep.txt")" = "$(printf "kept, replaced\n1000:1000:644")" ]'
check "setuid bit kept, hard link shares the inode, a path through a relative symlink lands inside" bash -c '
	out=$(berth run --rm -u 0 --entrypoint "" testimg:1 sh -c "stat -c %a /setuid; stat -c %h /bin/busybox; cat /usr/lib/through-a-relative-symlink");
	[ "$out" = "$(printf "4755\n2\nlands in usr/lib")" ]'
check "missing parents are made" bash -c '[ "$(berth run --rm --entrypoint "" testimg:1 cat /deep/er/path)" = "parents made" ]'
check "-e overrides the image's Env, the rest stays" bash -c '
	[ "$(berth run --rm -e SHADOWED=mine --entrypoint "" testimg:1 sh -c "echo \$SHADOWED \$FOO")" = "mine bar" ]'
check "a Cmd given replaces the image's (the entrypoint stays)" bash -c '[ "$(berth run --rm testimg:1 "echo given")" = given ]'
check "-u and -w override User and WorkingDir" bash -c '[ "$(berth run --rm -u 0 -w /tmp testimg:1 "echo \$(id -u) \$(pwd)")" = "0 /tmp" ]'
check "-u by uid:gid" bash -c '[ "$(berth run --rm -u 1234:5678 testimg:1 "id -u; id -g" | tr "\n" " ")" = "1234 5678 " ]'
check_err "an unknown user is refused at start" "unable to find user nosuch" berth run --rm -u nosuch testimg:1 true
check "inspect: Config.Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Path, Args" bash -c '
	berth create --name cfg testimg:1 >/dev/null &&
	berth inspect cfg | jq -e ".[0] | .Config.Entrypoint == [\"sh\",\"-c\"] and .Config.WorkingDir == \"/work\" and
		.Config.User == \"app\" and .Config.ExposedPorts == {\"80/tcp\": {}} and .Path == \"sh\" and .Args[0] == \"-c\" and
		(.Config.ImageID | startswith(\"sha256:\")) and (.Config.Env | index(\"FOO=bar\") != null)"'
check "exec runs as the container's user in its working directory" bash -c '
	berth run -d --name svc testimg:1 "sleep 1d" >/dev/null && [ "$(berth exec svc sh -c "id -u; pwd" | tr "\n" " ")" = "1000 /work " ] &&
	[ "$(berth exec -u 0 svc id -u)" = 0 ]'
check "the image's ExposedPorts are published by -P" bash -c '
	berth run -d --name pub -P testimg:1 "sleep 1d" >/dev/null && berth port pub 80 | grep -qE ":[0-9]+$"'

# image rm through berthd
check_err "image rm while a container uses the image is refused" "container" berth image rm testimg:1
check "the image is still there" bash -c 'berth image ls --format "{{.Repository}}:{{.Tag}}" | grep -qx testimg:1'
check "image rm -f untags it; the files stay for the containers" bash -c '
	berth image rm -f testimg:1 | grep -qx "Untagged: testimg:1" && [ "$(images_now | wc -l)" = 1 ] &&
	berth stop -t 0 svc >/dev/null && berth start svc >/dev/null && berth exec svc true'
check "with no tag and no container left, the content goes" bash -c '
	berth rm -f svc pub cfg >/dev/null && berth image load -q -i $BT_DIR/img.tar >/dev/null &&
	out=$(berth image rm testimg:1); echo "$out"; echo "$out" | grep -q "^Deleted: sha256:" && wait_for 5 bash -c "[ -z \"\$(images_now)\" ]"'
check_err "image rm of an unknown image" "No such image: nope" berth image rm nope
check "API: GET /images/json in Docker's shape" bash -c '
	berth image load -q -i $BT_DIR/img.tar >/dev/null && [ "$(bt_http GET /images/json)" = 200 ] &&
	jq -e ".[0] | (.Id | startswith(\"sha256:\")) and .RepoTags == [\"testimg:1\"] and .Size > 1000000 and (.Created | type) == \"number\"" $BT_DIR/http.out'

# OCI image layout, gzip archive
check "an OCI image layout with gzip layers" $MK oci "$BT_DIR/oci.tar"
check "loads under its containerd name" bash -c 'berth image load -i $BT_DIR/oci.tar | tail -1 | grep -qx "Loaded image: ocitest:latest"'
check "and runs (the same content: one copy)" bash -c '[ "$(berth run --rm ocitest "echo \$FOO; ls /opq" | tr "\n" " ")" = "bar new " ] && [ "$(images_now | wc -l)" = 1 ]'
check "a gzip-compressed docker archive" bash -c '$MK docker-gz $BT_DIR/img.tgz && berth image load -i $BT_DIR/img.tgz | tail -1 | grep -qx "Loaded image: gzimg:2"'
check "from stdin, quiet" bash -c 'cat $BT_DIR/img.tar | berth image load -q | grep -qx "Loaded image: testimg:1"'
if command -v docker >/dev/null; then
	check "docker load and docker images against berthd" bash -c "
		export DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc;
		timeout 30 docker load -i $BT_DIR/img.tar | grep -q 'Loaded image: testimg:1' &&
		timeout 20 docker images --format '{{.Repository}}:{{.Tag}}' | grep -qx testimg:1"
fi

# import
check "image import of a rootfs tarball" bash -c '$MK rootfs $BT_DIR/rootfs.tar && berth image import myroot $BT_DIR/rootfs.tar'
check "the imported image runs (no command: sh)" bash -c '[ "$(berth run --rm myroot sh -c "cat /keep.txt")" = kept ]'

# hostile archives: refused, nothing outside, nothing kept
OUTSIDE=$BT_DIR/outside
mkdir -p "$OUTSIDE"
export OUTSIDE
before=$(images_now)
export before
for kind in dotdot absolute abs-symlink rel-symlink symlink-parent-chain hardlink-out device whiteout-out; do
	case $kind in
	dotdot|whiteout-out) want='climbs out' ;;
	absolute) want='absolute name' ;;
	abs-symlink|rel-symlink|symlink-parent-chain) want='leads out of the image through a symlink' ;;
	hardlink-out) want='climbs out' ;;
	device) want='device node outside /dev' ;;
	esac
	check "hostile archive ($kind) built" $MK hostile-$kind "$BT_DIR/h-$kind.tar"
	check_err "hostile archive ($kind) refused" "$want" berth image load -i "$BT_DIR/h-$kind.tar"
done
check "nothing was written outside the image directory" bash -c '[ -z "$(ls -A $OUTSIDE)" ] && [ ! -e $BT_DIR/pwned ] && [ ! -e /pwned ]'
check "no image, no tag and no temporary directory was kept" bash -c '
	[ "$(images_now)" = "$before" ] && ! berth image ls | grep -q evil && no_leftovers'
check "a layer past the size limit (64 MiB here; 70 MB of zeros, gzip) is refused" bash -c '
	$MK hostile-huge $BT_DIR/h-huge.tar && out=$(berth image load -i $BT_DIR/h-huge.tar 2>&1); echo "$out";
	echo "$out" | grep -q "larger than 67108864 bytes" && no_leftovers && [ "$(images_now)" = "$before" ]'
check "an upload past the size limit is refused before it is stored (413)" bash -c '
	head -c $((65 << 20)) /dev/zero > $BT_DIR/big.bin && out=$(berth image load -i $BT_DIR/big.bin 2>&1); echo "$out";
	echo "$out" | grep -q "larger than 67108864 bytes" && no_leftovers'
check_err "a layer that is not what its config says is refused" "does not match its diff_id" bash -c "$MK bad-diffid $BT_DIR/bd.tar && berth image load -i $BT_DIR/bd.tar"
check_err "not a tar archive" "not a tar archive" bash -c "$MK not-tar $BT_DIR/nt.tar && berth image load -i $BT_DIR/nt.tar"
check "still nothing kept" bash -c '[ "$(images_now)" = "$before" ] && no_leftovers'
check "berthd's own files are untouched (a container still runs)" bash -c 'berth run --rm busybox true'

# events
check "image events: load, untag, delete" bash -c '
	T=$(date +%s.%N); berth image load -q -i $BT_DIR/img.tar >/dev/null && berth image rm testimg:1 >/dev/null;
	berth image rm myroot >/dev/null;
	got=$(berth events --since $T --until $(date +%s.%N) -f type=image --format "{{.Action}} {{.Actor.Attributes.name}}" | tr "\n" " ");
	[ "$got" = "load testimg:1 untag testimg:1 untag myroot delete myroot " ] || { echo "$got"; false; }'
bt_summary
