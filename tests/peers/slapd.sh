# slapd.sh - a throwaway OpenLDAP server for the tests and the bench
# (source it after tests/lib.sh).  Everything lives under $LDAP_DIR (in
# $T): a CA made for the run, a server certificate for 127.0.0.1 and
# localhost, a slapd.conf, an MDB database; slapd listens on loopback
# ports only and no system-wide configuration is read or written.
#
#   slapd_setup               CA, certificate, config, empty database
#   slapd_load LDIF           loads entries offline (slapadd: fast)
#   slapd_start / slapd_stop  the server, polled until it answers
#   ldap_admin CMD ARGS...    ldapadd/ldapmodify/ldapdelete as the admin
#
# Sets LDAP_PORT (ldap://, StartTLS), LDAPS_PORT (ldaps://), LDAP_CA (the
# CA's PEM), LDAP_SUFFIX, LDAP_ADMIN_DN/LDAP_ADMIN_PW, and
# LDAP_BIND_DN/LDAP_PASSWORD: the account herald binds as.  Searches by
# that account are limited to 500 entries unless paged, as Active
# Directory limits them to 1,000.
LDAP_DIR=$T/slapd
LDAP_SUFFIX="dc=acme,dc=example"
LDAP_ADMIN_DN="cn=admin,$LDAP_SUFFIX"
LDAP_BIND_DN="cn=herald,ou=services,$LDAP_SUFFIX"
LDAP_PID=

slapd_setup() {
	mkdir -p "$LDAP_DIR/db"
	LDAP_PORT=$(free_port)
	LDAPS_PORT=$(free_port)
	LDAP_ADMIN_PW=admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	LDAP_PASSWORD=pw-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	LDAP_CA=$LDAP_DIR/ca.pem
	local d=$LDAP_DIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=herald test CA" \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext"
	openssl x509 -req -days 2 -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -extfile "$d/ext" -out "$d/server.pem" 2>/dev/null
	local hash
	hash=$(/usr/sbin/slappasswd -s "$LDAP_PASSWORD")
	cat >"$d/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile $d/slapd.pid
argsfile $d/slapd.args
TLSCACertificateFile $d/ca.pem
TLSCertificateFile $d/server.pem
TLSCertificateKeyFile $d/server.key
sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited
database mdb
maxsize 2147483648
suffix "$LDAP_SUFFIX"
rootdn "$LDAP_ADMIN_DN"
rootpw $LDAP_ADMIN_PW
directory $d/db
index objectClass eq
overlay memberof
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="$LDAP_BIND_DN" read by * none
CONF
	cat >"$d/base.ldif" <<LDIF
dn: $LDAP_SUFFIX
objectClass: dcObject
objectClass: organization
o: Acme
dc: acme

dn: ou=people,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: groups

dn: ou=services,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: services

dn: $LDAP_BIND_DN
objectClass: person
cn: herald
sn: herald
userPassword: $hash
LDIF
	slapd_load "$d/base.ldif"
}

slapd_load() {
	/usr/sbin/slapadd -q -f "$LDAP_DIR/slapd.conf" -l "$1" >/dev/null 2>"$LDAP_DIR/slapadd.err" || {
		cat "$LDAP_DIR/slapadd.err" >&2
		return 1
	}
}

_slapd_up() {
	LDAPTLS_CACERT=$LDAP_CA ldapsearch -x -LLL -H "ldaps://127.0.0.1:$LDAPS_PORT" \
		-D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PW" -b "$LDAP_SUFFIX" -s base dn >/dev/null 2>&1
}

slapd_start() {
	spawn /usr/sbin/slapd -d 0 -f "$LDAP_DIR/slapd.conf" \
		-h "ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/" 2>>"$LDAP_DIR/slapd.log"
	LDAP_PID=$LAST_PID
	wait_for 20 _slapd_up
}

slapd_stop() {
	[ -n "$LDAP_PID" ] || return 0
	kill "$LDAP_PID" 2>/dev/null
	wait "$LDAP_PID" 2>/dev/null
	LDAP_PID=
}

ldap_admin() {
	local cmd=$1
	shift
	LDAPTLS_CACERT=$LDAP_CA "$cmd" -x -H "ldaps://127.0.0.1:$LDAPS_PORT" \
		-D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PW" "$@"
}

# people_ldif FIRST COUNT GROUP...: inetOrgPerson entries p<FIRST>..,
# each with mail p<N>@acme.example (stdout).
people_ldif() {
	$PY - "$@" <<'PY'
import sys
first, count = int(sys.argv[1]), int(sys.argv[2])
for n in range(first, first + count):
    print("dn: uid=p%d,ou=people,dc=acme,dc=example" % n)
    print("objectClass: inetOrgPerson\nuid: p%d\ncn: Person %d\nsn: %d" % (n, n, n))
    print("displayName: Person %d\nmail: p%d@acme.example\n" % (n, n))
PY
}
