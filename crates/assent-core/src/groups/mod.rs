//! Groups of users: named sets an admin keeps, which policy conditions see as `user.groups`, and
//! which limit the users an application may ask (its scope).

pub mod records;
