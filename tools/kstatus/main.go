// kstatus prints, for each object of a Kubernetes List read as JSON from stdin, the status that
// sigs.k8s.io/cli-utils/pkg/kstatus computes for it — what Flux's health checks use.
package main

import (
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err == nil {
		list := &unstructured.UnstructuredList{}
		if err = list.UnmarshalJSON(data); err == nil {
			report(list)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "kstatus: stdin is not a JSON List:", err)
	os.Exit(2)
}

func report(list *unstructured.UnstructuredList) {
	for i := range list.Items {
		u := &list.Items[i]
		result, err := status.Compute(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kstatus:", u.GetName(), err)
			os.Exit(1)
		}
		fmt.Printf("%s\t%s\t%s\n", u.GetName(), result.Status, result.Message)
	}
}
