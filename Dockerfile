# alliance-webhook container image (`make image`).
# The builder runs the very commands a developer and CI run: the package list and `make build`.
# The runtime image holds the binary and the shared libraries it links, runs as UID 65532 and has
# no shell or package manager (distroless).

FROM debian:12 AS build
WORKDIR /src
# Packages first, so that this layer is cached across source changes.
COPY scripts/ensure-packages.sh scripts/build-packages.txt scripts/
RUN scripts/ensure-packages.sh scripts/build-packages.txt
COPY . .
# Release: LTO, -fno-plt, --gc-sections, full RELRO (CMakeLists.txt; README, "The binary and its
# start-up").
RUN make build BUILD_TYPE=Release \
 && build/alliance-webhook version
# The shared libraries the binary needs, besides glibc (which the runtime image has, of the same
# Debian release), in the runtime image's library folder.
RUN set -eu; \
    libdir=/usr/lib/$(gcc -print-multiarch); \
    mkdir -p /out$libdir /out/usr/local/bin; \
    cp build/alliance-webhook /out/usr/local/bin/; \
    strip --strip-unneeded /out/usr/local/bin/alliance-webhook; \
    ldd build/alliance-webhook \
      | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' \
      | grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux[^/]*)\.so' \
      | xargs -r cp -L -t /out$libdir; \
    ls -l /out$libdir

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ /
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/alliance-webhook"]
CMD ["--help"]
