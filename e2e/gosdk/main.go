// Command gosdk-whoami prints the caller ARN that aws-sdk-go-v2's default configuration resolves to: in a
// pod that is the web identity role (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), reaching STS through
// AWS_ENDPOINT_URL_STS with AWS_CA_BUNDLE. Test infrastructure for kubectl-irsa's end-to-end test.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load config:", err)
		os.Exit(1)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "GetCallerIdentity:", err)
		os.Exit(1)
	}
	fmt.Println(*out.Arn)
}
