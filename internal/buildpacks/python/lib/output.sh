# shellcheck shell=bash
# Output in Heroku's style: "-----> " steps, details indented by 7 spaces, warnings and errors
# on stderr prefixed with " !     ".

puts_step() { printf -- '-----> %s\n' "$*"; }

puts_info() { printf '       %s\n' "$*"; }

# puts_warn LINE...: each argument is a line.
puts_warn() {
	local line
	for line in "$@"; do
		if [[ -n $line ]]; then
			printf ' !     %s\n' "$line" >&2
		else
			printf ' !\n' >&2
		fi
	done
}

# fail LINE...: prints the lines as an error and ends the build.
fail() {
	puts_warn "$@"
	exit 1
}

# indent: copies stdin to stdout with every line indented by 7 spaces, line by line.
indent() { sed -u 's/^/       /'; }
