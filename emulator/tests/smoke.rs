mod common;

#[tokio::test]
async fn sdk_reaches_the_emulator_over_https() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let roles = iam.list_roles().send().await.expect("ListRoles");
    assert!(roles.roles().is_empty());
    let err = iam.get_role().role_name("nope").send().await.unwrap_err();
    assert_eq!(common::code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}
