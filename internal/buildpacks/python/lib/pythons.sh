# shellcheck shell=bash disable=SC2034 # sets PYTHON_* for bin/compile
# Finding the Python interpreters installed on this machine and choosing one for an app.

# python_list: prints "X.Y.Z PATH" for every Python 3 interpreter found, newest first; one line
# per distinct interpreter (a pyenv install wins over another copy of the same version).
# Looks at $PYENV_ROOT, ~/.pyenv and /root/.pyenv (HOME may differ inside a build), the
# directories on PATH (but not pyenv's shims), /usr/bin and /usr/local/bin.
python_list() {
	local -A seen=()
	local lines=() root dir v ver p real
	local roots=()
	[[ -n ${PYENV_ROOT:-} ]] && roots+=("$PYENV_ROOT")
	[[ -n ${HOME:-} ]] && roots+=("$HOME/.pyenv")
	roots+=(/root/.pyenv)
	for root in "${roots[@]}"; do
		for v in "$root"/versions/*; do
			ver=${v##*/}
			[[ $ver =~ ^3\.[0-9]+\.[0-9]+$ ]] || continue
			p=$v/bin/python${ver%.*}
			[[ -x $p ]] || p=$v/bin/python3
			[[ -x $p ]] || continue
			real=$(readlink -f -- "$p") || continue
			[[ -n ${seen[$real]:-} ]] && continue
			seen[$real]=1
			lines+=("$ver $real")
		done
	done
	local dirs=() IFS=:
	for dir in ${PATH:-}; do dirs+=("$dir"); done
	unset IFS
	dirs+=(/usr/local/bin /usr/bin)
	for dir in "${dirs[@]}"; do
		[[ $dir == /* && $dir != */shims ]] || continue
		for p in "$dir"/python3 "$dir"/python3.[0-9] "$dir"/python3.[0-9][0-9]; do
			[[ -x $p && ! -d $p ]] || continue
			real=$(readlink -f -- "$p") || continue
			[[ -n ${seen[$real]:-} ]] && continue
			seen[$real]=1
			ver=$("$real" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || continue
			[[ $ver =~ ^3\.[0-9]+\.[0-9]+$ ]] || continue
			lines+=("$ver $real")
		done
	done
	((${#lines[@]})) || return 0
	printf '%s\n' "${lines[@]}" | sort -s -t. -k1,1nr -k2,2nr -k3,3nr
}

# python_choose REQUESTED LIST: sets PYTHON_VERSION and PYTHON_BIN from LIST (python_list's
# output). REQUESTED is X.Y or X.Y.Z; X.Y.Z is used exactly if present, else the newest patch
# of X.Y (PYTHON_FALLBACK=1). Returns 1 when nothing fits.
python_choose() {
	local req=$1 list=$2 ver path
	PYTHON_VERSION='' PYTHON_BIN='' PYTHON_FALLBACK=''
	local minor=$req
	[[ $req =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] && minor=${req%.*}
	while read -r ver path; do
		[[ -n $ver ]] || continue
		if [[ $ver == "$req" ]]; then
			PYTHON_VERSION=$ver PYTHON_BIN=$path PYTHON_FALLBACK=
			return 0
		fi
		if [[ -z $PYTHON_VERSION && $ver == "$minor".* ]]; then
			PYTHON_VERSION=$ver PYTHON_BIN=$path
			[[ $req != "$minor" ]] && PYTHON_FALLBACK=1
		fi
	done <<<"$list"
	[[ -n $PYTHON_VERSION ]]
}
