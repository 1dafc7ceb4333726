//! Schema evolution in the style of the spec: data written by a version-1
//! pack function is read by the version-2 function, which removed one field
//! and added another.

use vpack::{Buffer, ErrorKind};

/// The record as version 1 of the application defined it.
#[derive(Default, Debug, Clone, PartialEq)]
struct UserV1 {
    id: i64,
    name: String,
    nickname: String,
    is_admin: bool,
}

fn pack_user_v1(u: &mut UserV1, buf: &mut Buffer) {
    vpack::version(1, buf);
    vpack::int(&mut u.id, buf);
    vpack::string(&mut u.name, buf);
    vpack::string(&mut u.nickname, buf);
    vpack::bool(&mut u.is_admin, buf);
}

/// Version 2: `nickname` is gone, `email_verified` is new.
#[derive(Default, Debug, Clone, PartialEq)]
struct User {
    id: i64,
    name: String,
    is_admin: bool,
    email_verified: bool,
}

fn pack_user(u: &mut User, buf: &mut Buffer) {
    let version = vpack::version(2, buf);
    vpack::int(&mut u.id, buf);
    vpack::string(&mut u.name, buf);
    if version < 2 {
        let mut _nickname = String::new();
        vpack::string(&mut _nickname, buf);
    }
    vpack::bool(&mut u.is_admin, buf);
    if version >= 2 {
        vpack::bool(&mut u.email_verified, buf);
    }
}

#[test]
fn v2_reads_v1_data() {
    let mut old = UserV1 {
        id: 7,
        name: "Ann".into(),
        nickname: "annie".into(),
        is_admin: true,
    };
    let bytes = vpack::to_bytes(&mut old, pack_user_v1).unwrap();
    let user: User = vpack::from_bytes(&bytes, pack_user).unwrap();
    assert_eq!(
        user,
        User {
            id: 7,
            name: "Ann".into(),
            is_admin: true,
            email_verified: false
        }
    );
}

#[test]
fn v2_data_round_trips_and_v1_code_refuses_it() {
    let mut new = User {
        id: 8,
        name: "Bo".into(),
        is_admin: false,
        email_verified: true,
    };
    let bytes = vpack::to_bytes(&mut new, pack_user).unwrap();
    assert_eq!(vpack::from_bytes::<User>(&bytes, pack_user).unwrap(), new);
    let err = vpack::from_bytes::<UserV1>(&bytes, pack_user_v1).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::NewerVersion {
            stored: 2,
            current: 1
        }
    );
    assert_eq!(err.offset(), 0);
}

#[test]
fn negative_version_is_corrupt() {
    let err = vpack::from_bytes::<User>(&[0x01], pack_user).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::OutOfRange);
}
