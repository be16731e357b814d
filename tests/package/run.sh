#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Installs nalias into a temporary root and builds a consumer against it,
# with pkg-config and with CMake's find_package, then runs it there.
#   run.sh deb      cpack -G DEB in BUILD, check the package, dpkg -x it
#   run.sh install  DESTDIR=root cmake --install BUILD
# Environment: BUILD (the build tree), SRC (tests/package), PREFIX and
# LIBDIR (CMAKE_INSTALL_PREFIX, CMAKE_INSTALL_LIBDIR), MANDIR, BINDIR, CC.
set -eu
mode=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nalias-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

case $mode in
deb)
    (cd "$BUILD" && cpack -G DEB -B "$tmp/cpack") >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
    deb=$(ls "$tmp"/cpack/*.deb)
    echo "package: $(basename "$deb")"
    dpkg-deb -I "$deb" | sed -n '/Package:/,$p'
    dpkg-deb -c "$deb" >"$tmp/contents"
    for f in "$LIBDIR/libalias.so.7" "$LIBDIR/libalias.so" include/alias.h include/alias_mod.h \
        "$LIBDIR/pkgconfig/libalias.pc" "$LIBDIR/cmake/nalias/naliasConfig.cmake" \
        "$LIBDIR/cmake/nalias/naliasTargets.cmake" "$MANDIR/man3/libalias.3" "$MANDIR/man1/alias-replay.1" \
        "$BINDIR/alias-replay"; do
        grep -q " \./${PREFIX#/}/$f\( \|$\)" "$tmp/contents" || fail "the package lacks $PREFIX/$f"
    done
    grep -q "libalias.so -> libalias.so.7" "$tmp/contents" || fail "libalias.so is not a link to libalias.so.7"
    dpkg-deb -f "$deb" Depends | grep -q libpcap || fail "Depends does not name libpcap (shlibdeps)"
    dpkg-deb -e "$deb" "$tmp/control"
    grep -q '^libalias 7 ' "$tmp/control/shlibs" || fail "no shlibs entry for libalias 7"
    grep -q 'ldconfig' "$tmp/control/triggers" || fail "no ldconfig trigger"
    dpkg -x "$deb" "$root"
    ;;
install)
    DESTDIR=$root cmake --install "$BUILD" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac

top=$root$PREFIX
libpath=$top/$LIBDIR
[ "$(readlink "$libpath/libalias.so")" = libalias.so.7 ] || fail "libalias.so does not point to libalias.so.7"
objdump -p "$libpath/libalias.so.7" | grep -q 'SONAME *libalias.so.7' || fail "SONAME is not libalias.so.7"

# pkg-config, looking only into the temporary root.
flags=$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$libpath/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root \
    pkg-config --cflags --libs libalias)
echo "pkg-config: $flags"
# shellcheck disable=SC2086
${CC:-cc} -std=c99 -Wall -Wextra -Werror -o "$tmp/consumer-pc" "$SRC/consumer/consumer.c" $flags
LD_LIBRARY_PATH=$libpath "$tmp/consumer-pc" "$root"

# CMake find_package(nalias), with only the temporary root to search.
cmake -S "$SRC/consumer" -B "$tmp/consumer-build" -DCMAKE_PREFIX_PATH="$top" -DEXPECTED_ROOT="$root" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "configuring the consumer"; }
cmake --build "$tmp/consumer-build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "building the consumer"; }
LD_LIBRARY_PATH=$libpath "$tmp/consumer-build/consumer" "$root"

# The manuals render without warnings; the installed tool runs its sample.
for page in "$MANDIR/man3/libalias.3" "$MANDIR/man1/alias-replay.1"; do
    [ -z "$(groff -mdoc -Tutf8 -ww -z "$top/$page" 2>&1)" ] || fail "$page has groff warnings"
done
LD_LIBRARY_PATH=$libpath "$top/$BINDIR/alias-replay" -q >"$tmp/replay.txt" || fail "installed alias-replay failed"
grep -q '^Summary' "$tmp/replay.txt" || fail "installed alias-replay printed no summary"
echo "ok: $mode"
