# fish completion for imagespec(1). The options are those of
# `imagespec VERB --help`; tests/e2e/completions.sh keeps the two in step.

set -l verbs build plan validate inspect copy index report tags schema auth cache version help
set -l platforms all linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/386 linux/ppc64le linux/s390x linux/riscv64

function __imagespec_spec
    # The spec named on the command line, else ./image.yaml.
    set -l args (commandline -opc)
    set -e args[1..2]
    set -l skip 0
    for a in $args
        if test $skip = 1
            set skip 0
            continue
        end
        switch $a
            case -p --param --target -t --tag --platform --output --metadata-out --progress -j --jobs --insecure-registry --ca-cert --cache-dir --cache-from --cache-to --timeout --low-speed-time
                set skip 1
            case '-*'
            case '*'
                echo $a
                return
        end
    end
    echo image.yaml
end

function __imagespec_params
    set -l spec (__imagespec_spec)
    test -r "$spec"; or return
    begin
        sed -n '/^params:/,/^[^[:space:]#]/s/^[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\):.*/\1/p' $spec
        grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*(\}|:[-?])' $spec | sed -E 's/^\$\{//; s/(\}|:[-?])$//'
    end 2>/dev/null | sort -u | sed 's/$/=/'
end

function __imagespec_verbs
    printf '%s\t%s\n' build 'build the image a spec describes and write or push it'
    printf '%s\t%s\n' plan 'show what build would do; writes nothing'
    printf '%s\t%s\n' validate 'check specs against the format, offline'
    printf '%s\t%s\n' inspect "show an image's manifest, config or platforms"
    printf '%s\t%s\n' copy 'copy an image between registries, layouts and archives'
    printf '%s\t%s\n' index 'join single-platform images into an index'
    printf '%s\t%s\n' report "an image's layers, files and config as HTML or JSON"
    printf '%s\t%s\n' tags 'list the tags of a registry repository, layout or archive'
    printf '%s\t%s\n' schema 'print the JSON Schema of image.yaml'
    printf '%s\t%s\n' auth 'registry credentials (docker config.json)'
    printf '%s\t%s\n' cache 'the size of the layer cache, and pruning it'
    printf '%s\t%s\n' version 'print the version'
    printf '%s\t%s\n' help 'print the list of commands'
end

complete -c imagespec -f
complete -c imagespec -n "not __fish_seen_subcommand_from $verbs" -s h -l help -d 'print the list of commands'
complete -c imagespec -n "not __fish_seen_subcommand_from $verbs" -l version -d 'print the version'
complete -c imagespec -n "not __fish_seen_subcommand_from $verbs" -a '(__imagespec_verbs)'

# build and plan
set -l bp '__fish_seen_subcommand_from build plan'
complete -c imagespec -n $bp -F -a '-' -d spec
complete -c imagespec -n $bp -s p -l param -x -a '(__imagespec_params)' -d 'set a ${NAME} parameter (NAME=VALUE)'
complete -c imagespec -n $bp -l target -x -d "replace the spec's target"
complete -c imagespec -n $bp -s t -l tag -x -d 'add a tag'
complete -c imagespec -n $bp -l platform -x -a "$platforms" -d 'build for os/arch[/variant] or all'
complete -c imagespec -n $bp -l output -x -a 'oci: oci-archive: docker-archive:' -d 'write to a layout or archive instead of the target'
complete -c imagespec -n $bp -l json -d 'print the result as JSON'
complete -c imagespec -n $bp -l metadata-out -r -F -d 'also write the JSON result to FILE'
complete -c imagespec -n $bp -l progress -x -a 'auto plain quiet' -d 'how progress is shown'
complete -c imagespec -n '__fish_seen_subcommand_from build plan copy' -s j -l jobs -x -d 'parallel transfers (default 4)'
complete -c imagespec -n $bp -l cache-dir -x -a '(__fish_complete_directories)' -d 'the layer cache'
complete -c imagespec -n $bp -l no-cache -d 'build every layer; read and write no cache'
complete -c imagespec -n $bp -l cache-from -x -d 'read a layer cache artifact from a registry'
complete -c imagespec -n $bp -l cache-to -x -d 'write the layer cache artifact to a registry'
complete -c imagespec -n $bp -l offline -d 'plan: do not ask the target which blobs it has'
complete -c imagespec -n $bp -l report -r -F -d 'build: also write the HTML layer report to FILE'
complete -c imagespec -n "__fish_seen_subcommand_from $verbs" -s h -l help -d 'print the usage'

complete -c imagespec -n '__fish_seen_subcommand_from validate' -F
complete -c imagespec -n '__fish_seen_subcommand_from validate' -s p -l param -x -d 'a parameter NAME=VALUE'
set -l net '__fish_seen_subcommand_from build plan inspect copy tags report'
complete -c imagespec -n $net -l insecure-registry -x -d 'allow plain HTTP / unverified TLS for HOST'
complete -c imagespec -n $net -l ca-cert -r -F -d 'extra CA certificates (PEM)'
complete -c imagespec -n $net -s v -l verbose -d 'more output; trace HTTP requests'
complete -c imagespec -n '__fish_seen_subcommand_from inspect copy tags' -l json -d 'print JSON'
complete -c imagespec -n '__fish_seen_subcommand_from copy' -l all-tags -d 'copy every tag of a registry repository'
complete -c imagespec -n '__fish_seen_subcommand_from build plan inspect copy index tags report' -l timeout -x -d 'deadline for every network request (90s, 5m)'
complete -c imagespec -n '__fish_seen_subcommand_from build plan inspect copy index tags report' -l low-speed-time -x -d 'seconds below 1 KiB/s that count as stalled'

set -l refs '__fish_seen_subcommand_from inspect copy tags report'
complete -c imagespec -n $refs -a 'oci: oci-archive: docker-archive: docker://' -d reference
complete -c imagespec -n '__fish_seen_subcommand_from inspect copy report' -l platform -x -a "$platforms" -d 'the platform'
complete -c imagespec -n '__fish_seen_subcommand_from inspect' -l config -d 'print the config'
complete -c imagespec -n '__fish_seen_subcommand_from inspect' -l manifest -d 'print the manifest'
complete -c imagespec -n '__fish_seen_subcommand_from inspect' -l raw -d 'print the top-level document byte for byte'
complete -c imagespec -n '__fish_seen_subcommand_from report' -l html -r -F -d 'write the HTML page to FILE'
complete -c imagespec -n '__fish_seen_subcommand_from report' -l json -d 'print the report as JSON'
complete -c imagespec -n '__fish_seen_subcommand_from report' -l against -x -a 'oci: oci-archive: docker-archive: docker://' -d 'mark what changed since another image'

set -l index '__fish_seen_subcommand_from index'
complete -c imagespec -n "$index; and not __fish_seen_subcommand_from create append" -a 'create append'
complete -c imagespec -n "$index; and __fish_seen_subcommand_from create append" -a 'oci: oci-archive: docker://' -d reference
complete -c imagespec -n $index -l insecure-registry -x -d 'allow plain HTTP / unverified TLS for HOST'
complete -c imagespec -n $index -l ca-cert -r -F -d 'extra CA certificates (PEM)'
complete -c imagespec -n $index -s v -l verbose -d 'more output'
complete -c imagespec -n $index -l json -d 'print the result as JSON'

set -l auth '__fish_seen_subcommand_from auth'
complete -c imagespec -n "$auth; and not __fish_seen_subcommand_from login logout get" -a 'login logout get'
complete -c imagespec -n "$auth; and __fish_seen_subcommand_from login" -s u -l username -x -d 'the user'
complete -c imagespec -n "$auth; and __fish_seen_subcommand_from login" -l password-stdin -d 'read the password from standard input'

set -l cache '__fish_seen_subcommand_from cache'
complete -c imagespec -n "$cache; and not __fish_seen_subcommand_from du prune" -a 'du prune'
complete -c imagespec -n $cache -l max-size -x -d 'prune: the size to prune to (500M, 10G)'
complete -c imagespec -n $cache -l cache-dir -x -a '(__fish_complete_directories)' -d 'the layer cache'
complete -c imagespec -n $cache -l json -d 'print JSON'
