// `busybox sh -c SCRIPT` under elfshim against native busybox: stdout, stderr and exit
// status byte for byte. The scripts exercise the kernel the way a shell does: fork/exec
// (busybox runs its applets by exec'ing /proc/self/exe), pipes, wait, signals between
// guest processes, process groups, fd juggling, #! scripts and files in a temp dir.
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ELFSHIM_TIMEOUT_MS, compareWithNative } from './helpers/run.js';

const BUSYBOX = '/bin/busybox';
const skip = existsSync(BUSYBOX) ? false : `${BUSYBOX} is missing (Debian: apt-get install busybox-static)`;

const ENV = {
  PATH: '/usr/bin:/bin',
  LC_ALL: 'C',
};

interface ShellCase {
  name: string;
  /** The script; "$1" is a fresh empty directory (a different one for each side). */
  script: string;
  input?: string;
}

const cases: ShellCase[] = [
  {
    name: 'while and for loops with arithmetic',
    script: 'i=0; s=0; while [ $i -lt 20 ]; do i=$((i+1)); s=$((s+i*i)); done; echo "$i $s"\n' +
      'for w in alpha beta "gamma delta"; do printf "[%s]" "$w"; done; echo\n' +
      'n=0; until [ $n -ge 5 ]; do n=$((n+1)); [ $n -eq 2 ] && continue; [ $n -eq 4 ] && break; echo n=$n; done',
  },
  {
    name: 'functions, recursion and local variables',
    script: 'fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1-1))) )); fi; }\n' +
      'fact 12\n' +
      'counter() { local c=$1; c=$((c+100)); echo "local $c"; }; c=5; counter 7; echo "global $c"\n' +
      'ret() { return $1; }; ret 9; echo "returned $?"',
  },
  {
    name: 'command substitution, nested and backquoted',
    script: 'x=$(echo $(echo inner) outer); echo "$x"\ny=`echo back`; echo "$y quote"\n' +
      'echo "lines: $(printf "a\\nb\\nc\\n" | wc -l)"\nz=$(exit 4); echo "status $?"\necho "$(echo "$(echo "$(echo deep)")")"',
  },
  {
    name: 'redirections: >, >>, <, 2>, 2>&1, /dev/null',
    script: 'cd "$1"; echo one > f; echo two >> f; cat < f; wc -l < f\n' +
      'cat missing 2> err; echo "status $?"; cat err\n' +
      '{ echo out; echo err >&2; } 2>&1 | sort\n' +
      'echo gone > /dev/null; { echo to-stderr >&2; } 2>/dev/null; echo end',
  },
  {
    name: 'here-documents: expanded, quoted, tab-stripped',
    script: 'v=value\ncat <<EOF\nv is $v, sub is $(echo sub), arith $((6*7))\nEOF\n' +
      "cat <<'EOF'\nliteral $v $(echo no)\nEOF\n" +
      'cat <<-EOF\n\tindented $v\n\t\tmore\n\tEOF\n' +
      'while read a b; do echo "$b-$a"; done <<EOF\n1 one\n2 two\nEOF',
  },
  {
    name: 'background jobs and wait',
    script: 'cd "$1"; (sleep 0.3; echo slow > a) & (echo fast > b) & wait; cat a b\n' +
      'for i in 1 2 3 4; do (echo job$i > j$i) & done; wait; cat j1 j2 j3 j4; echo "wait status $?"',
  },
  {
    name: 'wait PID returns each job\'s exit status',
    script: '(exit 7) & p=$!; wait $p; echo "first $?"\nfalse & q=$!; true & r=$!; wait $q; echo "false $?"; wait $r; echo "true $?"\n' +
      'sh -c "exit 33" & wait $!; echo "sh $?"',
  },
  {
    name: 'jobs lists running and finished background jobs',
    script: 'sleep 0.3 & jobs; wait; jobs; echo done',
  },
  {
    name: 'find | sort | head',
    script: 'cd "$1"; mkdir -p d/e/f d/g; for i in 1 2 3 4 5; do echo $i > d/e/file$i; echo $i > d/g/x$i; done; touch d/e/f/deep\n' +
      'find d | sort | head -n 8\nfind d -type f -name "x*" | sort -r | head -3\nfind d -type d | sort\nfind d -name file3 -o -name deep | sort',
  },
  {
    name: 'tar c | tar t',
    script: 'cd "$1"; mkdir -p src/sub/deeper; seq 100 > src/a; echo hi > src/sub/b; echo x > src/sub/deeper/c\n' +
      'tar cf - src | tar tf - | sort\ntar czf - src | tar tzf - | sort | tail -n 2',
  },
  {
    name: 'tar c | (cd out && tar x) round trip',
    script: 'cd "$1"; mkdir src out; seq 3000 > src/numbers; printf "x%.0s" $(seq 50) > src/xs\n' +
      'tar cf - src | (cd out && tar xf -); cmp src/numbers out/src/numbers && echo same; md5sum out/src/numbers out/src/xs | cut -d" " -f1',
  },
  {
    name: 'gzip | gunzip | md5sum',
    script: 'seq 20000 | gzip | gunzip | md5sum; seq 20000 | md5sum\nseq 5000 | gzip -9 | wc -c\n' +
      'cd "$1"; seq 1000 > f; gzip f; ls; gunzip f.gz; md5sum f',
  },
  {
    name: 'xargs',
    script: 'seq 10 | xargs echo; seq 10 | xargs -n 3 echo got\nprintf "a\\nb c\\nd\\n" | xargs -I{} echo "<{}>"\n' +
      'cd "$1"; touch f1 f2 f3; ls | xargs rm; ls | wc -l',
  },
  {
    // Debian's busybox is built without awk's libm functions (sin, sqrt, ^ say "Math support is not compiled in").
    name: 'awk with math',
    script: 'seq 1 12 | awk \'BEGIN { p = 1 } { s += $1; p *= $1; q += $1 * $1 } END { printf "%d %d %d %.4f %.3e\\n", s, p, q, q / NR, p / 7 }\'\n' +
      'awk \'BEGIN { x = 1; for (i = 0; i < 20; i++) x = x * 1.5; printf "%.6f %d %d %d %.10g\\n", x, int(-7.5), 17 % 5, -17 % 5, 1 / 3; print 7 / 2, int(7 / 2) }\'\n' +
      'echo "3 4 5" | awk \'{ for (i = 1; i <= NF; i++) t += $i * $i; print t, NF, length($0), t / NF }\'\n' +
      'awk \'BEGIN { for (i = 1; i <= 100; i++) s += 1 / (i * i); printf "%.12f\\n", s; printf "%x %o %c %5.1f%%\\n", 255, 8, 65, 99.44 }\'\n' +
      'awk \'BEGIN { print sqrt(2) }\' 2>&1; echo "no libm: $?"',
  },
  {
    name: 'awk arrays and string functions',
    script: 'printf "b 2\\na 1\\nb 5\\nc 3\\na 4\\n" | awk \'{ sum[$1] += $2; n[$1]++ } END { for (k in sum) print k, sum[k], n[k] }\' | sort\n' +
      'echo "Hello, World" | awk \'{ print toupper($0), tolower($1), substr($2, 2, 3), index($0, "W"); gsub(/o/, "0"); print }\'\n' +
      'echo "a:b:c" | awk -F: \'{ n = split($0, parts, ":"); print n, parts[3] parts[1] }\'',
  },
  {
    name: 'sed',
    script: 'printf "hello world\\nfoo bar\\nbaz\\n" | sed -e "s/o/0/g" -e "2d"\nseq 10 | sed -n "3,5p"\necho abcdef | sed "s/\\(ab\\)\\(cd\\)/\\2\\1/"\n' +
      'seq 5 | sed "1i\\\\\nfirst\n\\$a\\\\\nlast"\nprintf "x\\ny\\n" | sed = | sed "N;s/\\n/ /"\n' +
      'cd "$1"; seq 3 > f; sed -i "s/2/two/" f; cat f',
  },
  {
    name: 'seq',
    script: 'seq 3; seq 2 3 14; seq -s, 7; echo; seq -w 8 11; seq 5 -2 -3',
  },
  {
    name: 'trap on EXIT and on a signal sent to itself',
    script: 'trap "echo bye" EXIT\ntrap "echo usr1 caught" USR1\nkill -USR1 $$\necho after\ntrap - USR1\ntrap "echo term caught" TERM\nkill $$\necho end',
  },
  {
    name: 'a child signals its parent shell',
    script: 'trap "echo got HUP" HUP\n(kill -HUP $$)\necho after\ntrap "echo got USR2" USR2\nsh -c "kill -USR2 $$"\necho done',
  },
  {
    name: 'kill between guest processes: TERM, KILL and exit statuses',
    script: 'sleep 20 & p=$!; kill $p; wait $p; echo "TERM status $?"\nsleep 20 & p=$!; kill -9 $p; wait $p; echo "KILL status $?"\n' +
      'sleep 20 & p=$!; kill -0 $p && echo alive; kill -USR1 $p; wait $p; echo "USR1 status $?"\nkill -0 $p 2>/dev/null || echo gone',
  },
  {
    // Each job says it is ready (after its exec'd shell has reset the parent's traps) before the group is signalled.
    // The inner shells' stderr is dropped: whether ash prints "Terminated" for a job depends on whether it was
    // reaped inside `wait PID` or before — a race even natively.
    name: 'kill to a process group: kill -TERM -PGID and kill 0 in a new session (setsid)',
    script: 'cd "$1"\n' +
      'setsid sh -c \'trap "echo leader caught TERM" TERM\n' +
      '  sh -c "echo > r1; exec sleep 20" & p1=$!\n  sh -c "echo > r2; exec sleep 20" & p2=$!\n' +
      '  while [ ! -e r1 ] || [ ! -e r2 ]; do sleep 0.05; done\n' +
      '  kill -TERM -$$; echo "kill $?"; wait $p1; echo "first $?"; wait $p2; echo "second $?"\' 2>/dev/null\n' +
      'setsid sh -c \'sh -c "echo > r3; exec sleep 20" & p=$!\n  while [ ! -e r3 ]; do sleep 0.05; done\n' +
      '  trap "echo caught HUP" HUP; kill -HUP 0; wait $p; echo "child $?"\' 2>/dev/null\n' +
      'echo "outer survives"; kill -0 0 && echo "own group exists"',
  },
  {
    name: 'exec redirections of the shell itself',
    script: 'cd "$1"; exec 3> out; echo to3 >&3; echo more >&3; exec 3>&-; cat out\n' +
      'exec 4< out; read first <&4; read second <&4; echo "read: $first / $second"; exec 4<&-\n' +
      'exec 5>&1; exec > log; echo hidden; exec 1>&5 5>&-; echo "log has: $(cat log)"',
  },
  {
    name: 'subshells do not leak state',
    script: 'x=1; (x=2; echo "in $x"); echo "out $x"\n(cd /; pwd); cd /tmp; pwd\necho "$( (exit 3); echo $?)"\n' +
      '(trap "echo sub exit" EXIT; echo sub); echo main\nv=$( (echo a; echo b) | wc -l ); echo "lines $v"',
  },
  {
    name: 'exit status propagation',
    script: 'sh -c "exit 42"; echo $?\nfalse | true; echo $?\ntrue | false; echo $?\n! true; echo $?\n(exit 300); echo $?\n' +
      'busybox false; echo $?\nnosuchcommand 2>/dev/null; echo $?\nif sh -c "exit 3"; then echo yes; else echo "no $?"; fi\nexit 5',
  },
  {
    name: 'set -e stops at the first failing command',
    script: 'set -e\necho start\nfalse || echo handled\nif false; then :; fi\nfalse && echo never\necho mid\nsh -c "exit 6"\necho not reached',
  },
  {
    name: 'set -o pipefail and set -u',
    script: 'set -o pipefail; false | true; echo "pipefail $?"; set +o pipefail; false | true; echo "plain $?"\n' +
      'sh -c \'set -u; echo "$undefined_var"\' 2>/dev/null; echo "nounset $?"',
  },
  {
    name: 'read loops from pipes, files and stdin',
    script: 'printf "a 1\\nb 2\\nc 3\\n" | while read name num; do echo "$num:$name"; done\n' +
      'cd "$1"; seq 5 > f; total=0; while read n; do total=$((total+n)); done < f; echo "total $total"\n' +
      'IFS=: read -r user pass uid <<EOF\nroot:x:0:extra\nEOF\necho "$user|$pass|$uid"\n' +
      'while IFS= read -r line; do echo "stdin: [$line]"; done',
    input: 'first line\n  indented \\ backslash\nlast',
  },
  {
    name: 'printf builtin formats',
    script: 'printf "%5d|%-5s|%x|%X|%o|%c|%%\\n" 42 ab 255 255 8 xyz\nprintf "%s\\n" a b c\nprintf "%.3f %e %g\\n" 3.14159 1234.5 0.0001\n' +
      'printf "%03d-%+d-% d\\n" 7 7 7\nprintf "%b\\n" "tab\\tend"\nprintf "[%*s]\\n" 6 right',
  },
  {
    name: 'case patterns and parameter expansion',
    script: 'for f in a.c b.h c.txt Makefile; do case $f in *.c) echo "$f C";; *.h) echo "$f H";; [A-Z]*) echo "$f upper";; *) echo "$f other";; esac; done\n' +
      'x=foobarfoo; echo ${x#foo} ${x%foo} ${x##*o} ${x%%b*} ${#x} ${x:-d} ${unset_y:-default} ${x:3:3}\n' +
      'set -- one two three; echo $# "$2" "$@"; shift; echo "$*"',
  },
  {
    name: 'arithmetic expansion',
    script: 'echo $((1<<10)) $((7/2)) $((-7%3)) $((0x10 + 010)) $(( 3 > 2 && 1 )) $(( (5+3)*2 )) $((~0)) $((2**0 + 1))\n' +
      'i=5; i=$((i*=3)); echo $i $((i++)) $i $((--i))',
  },
  {
    name: 'pipeline of applets: grep, sort, uniq, cut, tr, wc',
    script: 'seq 200 | grep 7 | sort -rn | head -5 | tr "\\n" " "; echo\n' +
      'seq 1000 | awk \'{ print $1 % 7 }\' | sort -n | uniq -c | awk \'{ print $2, $1 }\'\n' +
      'echo "a,b,c,d" | cut -d, -f2,4; echo "hello world" | tr -s "lo" | wc -c',
  },
  {
    name: 'file operations: cp, mv, ln -s, rm, ls, stat sizes',
    script: 'cd "$1"; mkdir a; echo x > a/f; cp a/f a/g; mv a/g a/h; ln -s f a/link; ln a/h a/hard; ls a; cat a/link\n' +
      'rm a/f; cat a/link 2>/dev/null || echo dangling; ls -1 a | wc -l; wc -c < a/hard; rm -r a; ls',
  },
  {
    name: 'a #! script run by path, with arguments and status',
    script: 'cd "$1"; printf \'#!/bin/busybox sh\\necho "from script: $0 has $# args: $*"\\nexit 3\\n\' > s.sh; chmod +x s.sh\n' +
      './s.sh a "b c"; echo "status $?"\nprintf "echo no shebang; exit 4\\n" > plain; chmod +x plain; ./plain; echo "plain $?"',
  },
  {
    name: 'getopts, eval and shift',
    script: 'set -- -a -b val -c rest1 rest2\nwhile getopts ab:c opt; do echo "opt $opt ${OPTARG:-}"; unset OPTARG; done\n' +
      'shift $((OPTIND-1)); echo "rest: $*"\neval \'v=evaluated; echo "eval $v"\'\ncmd="echo via eval"; eval "$cmd"',
  },
  {
    name: '/dev/zero, head -c and dd',
    script: 'head -c 100000 /dev/zero | md5sum\ndd if=/dev/zero bs=1024 count=64 2>/dev/null | wc -c\nhead -c 5000 /dev/zero | tr "\\0" "z" | tail -c 5; echo',
  },
  {
    name: 'stdin passed through to a pipeline',
    script: 'sort -r | head -n 2; echo "---"; cat',
    input: 'apple\ncherry\nbanana\n',
  },
  {
    name: '/proc of the other processes: the parent shell, a background job',
    script: 'sleep 30 & bg=$!\n' +
      'sh -c \'p=$PPID; grep -E "^(Name|State|Tgid):" /proc/$p/status | sed "s/[0-9][0-9]*/N/"; echo "listed: $(ls /proc | grep -cx $p)"\n' +
      'tr "\\0" " " < /proc/$1/cmdline; echo; cut -d" " -f3 /proc/$1/stat; ls /proc/$1/task | grep -cx $1\' sh $bg\n' +
      'kill $bg; wait',
  },
  {
    name: 'exit status of the script is the last command\'s (128+N for a signal)',
    script: 'sh -c \'kill -TERM $$\'; echo "child killed: $?"\nsh -c \'kill -INT $$\'; s=$?; echo "INT $s"; exit $s',
  },
];

describe('busybox sh scripts under elfshim match native busybox', { skip }, () => {
  for (const c of cases) {
    test(c.name, async (t) => {
      await compareWithNative(t, BUSYBOX, ['sh', '-c', c.script, 'sh', '{tmp}'], { tempDir: true, env: ENV, input: c.input, elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS });
    });
  }
});
