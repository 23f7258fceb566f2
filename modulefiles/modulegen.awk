# modulegen.awk - writes the dsc modulefile for Lmod (lang=lua) or for Tcl
# Environment Modules (lang=tcl) from dsc.module (see dsc.module.in), so that
# the two cannot differ in what they set or say.
#   awk -v lang=lua -f modulegen.awk dsc.module > VERSION.lua
#   awk -v lang=tcl -f modulegen.awk dsc.module > VERSION
function luaq(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function tclq(s) { gsub(/[\\"$\[\]{}]/, "\\\\&", s); return "\"" s "\"" }
# A value that starts with ROOT: the installation prefix, then the rest.
function value(s,    rest) {
    if (s ~ /^ROOT/) {
        rest = substr(s, 5)
        if (lang == "lua") return rest == "" ? "root" : "root .. " luaq(rest)
        return rest == "" ? "$root" : "\"${root}" substr(tclq(rest), 2)
    }
    return lang == "lua" ? luaq(s) : tclq(s)
}
function rest_of_line(n,    s, i) {
    s = $0
    for (i = 1; i <= n; i++) sub(/^[^ ]+ ?/, "", s)
    return s
}
BEGIN {
    if (lang != "lua" && lang != "tcl") { print "modulegen.awk: lang must be lua or tcl" > "/dev/stderr"; exit 1 }
    nhelp = 0; nbody = 0
}
/^#/ || /^$/ { next }
$1 == "help" { help[++nhelp] = rest_of_line(1); next }
$1 == "whatis" {
    s = rest_of_line(1)
    body[++nbody] = lang == "lua" ? "whatis(" luaq(s) ")" : "module-whatis " tclq(s)
    next
}
$1 == "conflict" { body[++nbody] = lang == "lua" ? "conflict(" luaq($2) ")" : "conflict " $2; next }
$1 == "setenv" {
    body[++nbody] = lang == "lua" ? "setenv(" luaq($2) ", " value(rest_of_line(2)) ")" : "setenv " $2 " " value(rest_of_line(2))
    next
}
$1 == "prepend" {
    body[++nbody] = lang == "lua" ? "prepend_path(" luaq($2) ", " value(rest_of_line(2)) ")" : "prepend-path " $2 " " value(rest_of_line(2))
    next
}
$1 == "default" {
    # pushenv: unloading restores what was there before (unset, or the
    # user's own value), which a conditional setenv cannot do.
    if (lang == "lua") {
        body[++nbody] = "pushenv(" luaq($2) ", os.getenv(" luaq($2) ") or os.getenv(" luaq($3) ") or " luaq(rest_of_line(3)) ")"
    } else {
        body[++nbody] = "if {[info exists ::env(" $2 ")]} { pushenv " $2 " $::env(" $2 ") } elseif {[info exists ::env(" $3 ")]} { pushenv " $2 " $::env(" $3 ") } else { pushenv " $2 " " tclq(rest_of_line(3)) " }"
    }
    next
}
{ printf "modulegen.awk: line %d: unknown keyword '%s'\n", NR, $1 > "/dev/stderr"; failed = 1; exit 1 }
END {
    if (failed || (lang != "lua" && lang != "tcl")) exit 1
    if (lang == "lua") {
        print "-- dsc modulefile for Lmod, generated from modulefiles/dsc.module.in."
        print "--   module use PREFIX/share/modulefiles; module load dsc"
        print "help([["
        for (i = 1; i <= nhelp; i++) print help[i]
        print "]])"
        print "local root = myFileName():match(\"^(.*)/share/modulefiles/[^/]+/[^/]+$\") or " luaq(prefix)
    } else {
        print "#%Module1.0"
        print "# dsc modulefile for Tcl Environment Modules, generated from modulefiles/dsc.module.in."
        print "#   module use PREFIX/share/modulefiles; module load dsc"
        print "proc ModulesHelp {} {"
        for (i = 1; i <= nhelp; i++) print "  puts stderr " tclq(help[i])
        print "}"
        print "set root " tclq(prefix)
        print "regexp {^(.*)/share/modulefiles/[^/]+/[^/]+$} $ModulesCurrentModulefile -> root"
    }
    for (i = 1; i <= nbody; i++) print body[i]
}
