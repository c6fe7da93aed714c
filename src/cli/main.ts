console.log('flatnet: work in progress');
