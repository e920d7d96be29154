#!/usr/bin/env bash
# Packs `sprig` for a machine that has a GPU, its driver and CUDA's libraries (a CUDA toolkit or
# Python's CUDA wheels) but no Swift toolchain, no MPI and no OpenBLAS, as the GPU machines
# lent to this project are:
#
#   gpu/bundle.sh [--output DIR] [--target-cpu CPU] [--with-fashion-mnist]
#
# DIR (default .build-gpu/bundle) then holds
#   bin/sprig              release build, Swift's standard library and Foundation linked in
#                          statically, compiled for --target-cpu (default x86-64-v3)
#   lib/                   every shared library sprig needs beyond the C and C++ runtimes
#                          (OpenBLAS, libgfortran, zlib, Open MPI, PMIx, hwloc, libevent, …)
#   openmpi/               Open MPI's tree (mpirun, orted, its components, help texts), moved
#                          here with OPAL_PREFIX; only the components whose libraries are carried
#   data/fashion-mnist/    with --with-fashion-mnist: the data set whose training images
#                          `challenge generate` resizes into inputs
#   env.sh                 `source DIR/env.sh` sets PATH, LD_LIBRARY_PATH, OPAL_PREFIX, …
# and DIR.tar.xz is the same, packed, for the device tool's `carry`. CUDA's own libraries are
# not carried: sprig opens them at run time where they are installed (README: GPU ranks).
# gpu/bundle-test.sh checks a bundle in a bare Debian root that has none of these packages.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

OUTPUT=.build-gpu/bundle
TARGET_CPU=x86-64-v3
FASHION=0
fail() { echo "error: gpu/bundle.sh: $*" >&2; exit 64; }
while [ $# -gt 0 ]; do
    case "$1" in
        --output) [ $# -ge 2 ] || fail "--output needs a directory"; OUTPUT=$2; shift 2 ;;
        --target-cpu) [ $# -ge 2 ] || fail "--target-cpu needs a CPU level"; TARGET_CPU=$2; shift 2 ;;
        --with-fashion-mnist) FASHION=1; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown option '$1' (see gpu/bundle.sh --help)" ;;
    esac
done
case "$OUTPUT" in /*) ;; *) OUTPUT="$ROOT/$OUTPUT" ;; esac
[ "$OUTPUT" != / ] || fail "--output / would replace the whole file system"

# What the build needs, and xz to pack it (and the data set, when asked for).
packages=(libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev xz-utils)
[ $FASHION -eq 0 ] || packages+=(dataset-fashion-mnist)
tools/install-packages.sh --as gpu/bundle.sh "${packages[@]}"

# ------------------------------------------------------------------ the binary
SCRATCH=.build-gpu/build-$TARGET_CPU
SPRIG_TARGET_CPU=$TARGET_CPU swift build -c release --static-swift-stdlib --product sprig --scratch-path "$SCRATCH"
rm -rf "$OUTPUT" "$OUTPUT.tar.xz"
mkdir -p "$OUTPUT/bin" "$OUTPUT/lib" "$OUTPUT/openmpi"
cp "$SCRATCH/release/sprig" "$OUTPUT/bin/sprig"
strip "$OUTPUT/bin/sprig"

# ------------------------------------------------------------------ Open MPI
# Debian's layout under a prefix of our own: OPAL_PREFIX moves every directory configured
# relative to /usr; the system configuration directory (/etc/openmpi) is moved by
# OPAL_SYSCONFDIR, PMIx's tree by PMIX_INSTALL_PREFIX (env.sh sets all three).
MPI=$OUTPUT/openmpi
MULTIARCH=$(uname -m)-linux-gnu
OMPI_LIBDIR=/usr/lib/$MULTIARCH/openmpi/lib
PMIX_DIR=/usr/lib/$MULTIARCH/pmix2
mkdir -p "$MPI/usr/bin" "$MPI/$OMPI_LIBDIR/openmpi3" "$MPI/usr/share" "$MPI/etc" "$MPI/$PMIX_DIR/lib"
cp /usr/bin/orterun /usr/bin/orted /usr/bin/ompi_info "$MPI/usr/bin/"
ln -s orterun "$MPI/usr/bin/mpirun"
ln -s orterun "$MPI/usr/bin/mpiexec"
cp -r /usr/share/openmpi "$MPI/usr/share/"
cp /etc/openmpi/openmpi-mca-params.conf "$MPI/etc/"
[ -d "$PMIX_DIR/share" ] && cp -r "$PMIX_DIR/share" "$MPI/$PMIX_DIR/"
[ -d "$PMIX_DIR/lib/pmix" ] && cp -r "$PMIX_DIR/lib/pmix" "$MPI/$PMIX_DIR/lib/"

# The libraries an ELF file needs, by the loader's resolution here, less the C and C++ runtimes
# (every Linux with a GPU driver has those, and a second copy would clash with the host's).
is_runtime() {
    case "$(basename "$1")" in
        ld-linux*|libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libutil.so*|libresolv.so*|\
        libstdc++.so*|libgcc_s.so*|linux-vdso*) return 0 ;;
    esac
    return 1
}
needed_libraries() { ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'; }
unresolved() { ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 == "not" { print $1 }'; }

# Open MPI's components: those whose libraries resolve here, less the network fabrics this
# bundle does not carry (InfiniBand verbs, UCX, libfabric, PSM: one node, shared memory and
# TCP) and OpenSHMEM's (sprig uses MPI alone).
for so in "$OMPI_LIBDIR"/openmpi3/mca_*.so; do
    name=$(basename "$so")
    if [ -n "$(unresolved "$so")" ]; then continue; fi
    if needed_libraries "$so" | grep -q -E 'libibverbs|libucp|libucs|libuct|libfabric|libpsm|librdmacm|libjvm|libcuda|liboshmem'; then continue; fi
    cp "$so" "$MPI/$OMPI_LIBDIR/openmpi3/$name"
done

# Every ELF now in the bundle, and what each needs, transitively, into lib/.
declare -A copied=()
queue=("$OUTPUT/bin/sprig" "$MPI"/usr/bin/orterun "$MPI"/usr/bin/orted "$MPI"/usr/bin/ompi_info)
while IFS= read -r -d '' f; do queue+=("$f"); done < <(find "$MPI" -name '*.so' -print0)
while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}; queue=("${queue[@]:1}")
    missing_here=$(unresolved "$f")
    [ -z "$missing_here" ] || fail "$f needs $missing_here, which this machine does not have"
    for lib in $(needed_libraries "$f"); do
        is_runtime "$lib" && continue
        name=$(basename "$lib")
        [ -n "${copied[$name]:-}" ] && continue
        copied[$name]=1
        cp -L "$lib" "$OUTPUT/lib/$name"
        queue+=("$lib")
    done
done

# ------------------------------------------------------------------ data and environment
if [ $FASHION -eq 1 ]; then
    FMNIST=/usr/share/datasets/fashion-mnist
    mkdir -p "$OUTPUT/data/fashion-mnist"
    # Unpacked: xz packs the raw images 15 % smaller than their .gz (22.6 MB against 26.4 MB).
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        if [ -f "$FMNIST/$f" ]; then cp "$FMNIST/$f" "$OUTPUT/data/fashion-mnist/"
        else gzip -dc "$FMNIST/$f.gz" > "$OUTPUT/data/fashion-mnist/$f"; fi
    done
fi

cat > "$OUTPUT/env.sh" <<EOF
# source this file: sprig and Open MPI from this bundle, wherever it was unpacked.
SPRIG_BUNDLE=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)
export SPRIG_BUNDLE
export PATH="\$SPRIG_BUNDLE/bin:\$SPRIG_BUNDLE/openmpi/usr/bin:\$PATH"
export LD_LIBRARY_PATH="\$SPRIG_BUNDLE/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export OPAL_PREFIX="\$SPRIG_BUNDLE/openmpi/usr"
export OPAL_SYSCONFDIR="\$SPRIG_BUNDLE/openmpi/etc"
export PMIX_INSTALL_PREFIX="\$SPRIG_BUNDLE/openmpi$PMIX_DIR"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# one node: shared memory and TCP; the fabrics' components are not carried
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_osc=^ucx
# mpirun wants a remote shell even to start ranks on this node alone; without ssh or rsh
# (a container) it refuses, so name one that only remote launches would use.
command -v ssh >/dev/null || command -v rsh >/dev/null || export OMPI_MCA_plm_rsh_agent=false
if [ -d "\$SPRIG_BUNDLE/data/fashion-mnist" ]; then export SPRIG_FASHION_MNIST="\$SPRIG_BUNDLE/data/fashion-mnist"; fi
EOF

XZ_OPT=-T0 tar -C "$(dirname "$OUTPUT")" -cJf "$OUTPUT.tar.xz" "$(basename "$OUTPUT")"
echo "gpu/bundle.sh: $OUTPUT ($(du -sh "$OUTPUT" | cut -f1)), packed $OUTPUT.tar.xz ($(du -h "$OUTPUT.tar.xz" | cut -f1))"
echo "  libraries: $(ls "$OUTPUT/lib" | tr '\n' ' ')"
